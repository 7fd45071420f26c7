/**
 * scripts/register-ts.cjs, the npm scripts' TypeScript loader: ts-node's own output, cached by content.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./support/cli";

const REGISTER = path.join(REPO_ROOT, "scripts", "register-ts.cjs");

function run(file: string, cache: string) {
  return spawnSync(process.execPath, ["-r", REGISTER, file], { encoding: "utf8", env: { ...process.env, TRM_TS_CACHE: cache, NODE_OPTIONS: "" } });
}

describe("scripts/register-ts.cjs", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-register-ts-"));
  const cache = path.join(dir, "cache");
  const file = path.join(dir, "probe.ts");

  it("runs a TypeScript file, caches ts-node's output for it, and reads it from the cache next time", () => {
    writeFileSync(file, 'import * as path from "node:path";\nconst name: string = path.basename(__filename);\nconsole.log(`hello from ${name}`);\n');
    expect(run(file, cache).stdout).toBe("hello from probe.ts\n");
    const [entry] = readdirSync(cache);
    expect(readdirSync(cache)).toHaveLength(1);
    // the same JavaScript ts-node's transpile-only mode produces (what Pulumi serializes the providers from)
    const expected = execFileSync(
      process.execPath,
      ["-e", `const s = require("ts-node").create({ transpileOnly: true, project: ${JSON.stringify(path.join(REPO_ROOT, "tsconfig.json"))} }); process.stdout.write(s.compile(require("node:fs").readFileSync(${JSON.stringify(file)}, "utf8"), ${JSON.stringify(file)}))`],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    expect(readFileSync(path.join(cache, entry), "utf8")).toBe(expected);
    // from the cache: ts-node and TypeScript are not even loaded
    writeFileSync(path.join(dir, "loaded.ts"), `require(${JSON.stringify(file)});\nconsole.log(Object.keys(require.cache).some((m) => /node_modules[\\\\/](ts-node[\\\\/]dist|typescript[\\\\/]lib)[\\\\/]/.test(m)));\n`);
    run(path.join(dir, "loaded.ts"), cache);
    expect(run(path.join(dir, "loaded.ts"), cache).stdout).toBe("hello from probe.ts\nfalse\n");
  });

  it("transpiles a changed file again", () => {
    writeFileSync(file, 'console.log("changed");\n');
    expect(run(file, cache).stdout).toBe("changed\n");
  });

  it("reports errors at the TypeScript file's own lines", () => {
    writeFileSync(file, "type T = { a: number };\n\nconst t: T = { a: 1 };\nif (t.a === 1) throw new Error(\"boom\");\n");
    const result = run(file, cache);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}:4`);
  });

  it("still runs when the cache cannot be written", () => {
    const blocked = path.join(dir, "not-a-dir");
    writeFileSync(blocked, "a file where the cache folder would go");
    writeFileSync(file, 'console.log("no cache");\n');
    const result = run(file, blocked);
    expect(result.stdout).toBe("no cache\n");
    expect(result.status).toBe(0);
  });
});
