/**
 * snapshots/schema.yaml is generated, not hand-edited: `npm run schema:author` on a fresh
 * PostgreSQL 16 + Directus 11.17.4 (db-init applied) must write exactly the committed file.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runTsScript } from "./support/cli";
import { SCHEMA_FILE } from "../tools/harness/directus";

describe("schema:author", () => {
  it("regenerates snapshots/schema.yaml byte for byte on a throwaway stack", async () => {
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "trm-author-")), "schema.yaml");
    const result = await runTsScript("scripts/schema-author.ts", ["--out", out], { DIRECTUS_URL: "" });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("(11 collections, 77 fields, 16 relations)");
    expect(await readFile(out, "utf8")).toBe(await readFile(SCHEMA_FILE, "utf8"));
  }, 15 * 60_000); // includes the runtime install on a machine's first run

  it("names the missing settings when pointed at an instance without credentials", async () => {
    const result = await runTsScript("scripts/schema-author.ts", [], { DIRECTUS_URL: "http://127.0.0.1:9" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^schema:author: ERROR missing credentials: set DIRECTUS_TOKEN/m);
  });
});
