/**
 * The seed inside a real Directus 11.17.4's request limit: MAX_PAYLOAD_SIZE forced down to 8kb.
 * Sent in one request per collection, Directus refuses (and the message names the limit, not the
 * data); split to the limit, through the seed CLI, everything is written and a re-run writes nothing.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedYamlChunks } from "../bench/make-seed";
import { connectDirectus } from "../lib/directus-client";
import { seedDirectus } from "../lib/seed/apply";
import { SeedWriteError } from "../lib/seed/errors";
import { parseSeedYaml, toSeedState } from "../lib/seed/data";
import { COLLECTION_NAMES } from "../lib/seed/model";
import { startDirectusWithSchema, type DirectusWithSchema } from "../tools/harness/directus";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";
import { runTsScript } from "./support/cli";

const LIMIT = "8kb";
const LIMIT_BYTES = 8 * 1024;
const ENTRIES = 40; // 726 items; 80 users are ~9 kB of JSON: more than one request holds

let pg: TestPostgres;
let stack: DirectusWithSchema;
let seedFile: string;
const yamlText = [...seedYamlChunks(ENTRIES)].join("");
const desired = toSeedState(parseSeedYaml(yamlText, "generated"));

beforeAll(async () => {
  pg = await startPostgres();
  stack = await startDirectusWithSchema(pg, { env: { MAX_PAYLOAD_SIZE: LIMIT } });
  seedFile = path.join(await mkdtemp(path.join(os.tmpdir(), "trm-seed-limits-")), "event.yaml");
  await writeFile(seedFile, yamlText);
}, 15 * 60_000);

afterAll(async () => {
  await stack?.directus.stop();
  await pg?.stop();
});

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of COLLECTION_NAMES) {
    const where = name === "directus_users" ? " WHERE email LIKE '%@bench-raid.al'" : "";
    counts[name] = (await pg.query<{ n: number }>(stack.db, `SELECT count(*)::int AS n FROM "${name}"${where}`))[0].n;
  }
  return counts;
}

describe(`a Directus with MAX_PAYLOAD_SIZE=${LIMIT}`, () => {
  it("refuses a request over the limit, and the seed says it is the server's limit, not the data", async () => {
    const client = await connectDirectus(stack.directus.url, { email: stack.directus.adminEmail, password: stack.directus.adminPassword });
    const error = await seedDirectus({ client, desired, limits: { maxBodyBytes: 1024 * 1024 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeedWriteError);
    const refusal = error as SeedWriteError;
    expect(refusal.kind).toBe("limit");
    expect(refusal.message).toMatch(/request entity too large/);
    expect(refusal.message).toMatch(/raise MAX_PAYLOAD_SIZE/);
    expect(refusal.message).toMatch(/\d+ item\(s\) in \d+ bytes of JSON/);
    expect(refusal.message).not.toMatch(/fix the seed data/);
  }, 5 * 60_000);

  it("seeds everything through the seed CLI, every request within the limit, and a re-run writes nothing", async () => {
    const env = {
      DIRECTUS_URL: stack.directus.url,
      DIRECTUS_ADMIN_EMAIL: stack.directus.adminEmail,
      DIRECTUS_ADMIN_PASSWORD: stack.directus.adminPassword,
      MAX_PAYLOAD_SIZE: LIMIT,
    };
    const run = await runTsScript("scripts/seed.ts", [seedFile], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const requests = Number(/seed complete: (\d+) write request/.exec(run.stdout)?.[1]);
    expect(requests).toBeGreaterThan(COLLECTION_NAMES.length); // split: more than one request per collection
    expect(run.stdout).toMatch(/seed: directus_users 80\/80 created \(\d+ items\/s, [\d.]+ s\)/);
    const expected = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, Object.keys(desired[name]).length]));
    expect(await rowCounts()).toEqual(expected);

    const again = await runTsScript("scripts/seed.ts", [seedFile], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("seed plan: 0 to create, 0 to update, 0 to delete");
    expect(again.stdout).toMatch(/seed complete: 0 write request/);
  }, 10 * 60_000);

  it("no request body the seed sends is larger than the limit", async () => {
    const sizes: number[] = [];
    const measuring: typeof fetch = async (input, init) => {
      if (typeof init?.body === "string" && !String(input).includes("/auth/")) sizes.push(Buffer.byteLength(init.body));
      return fetch(input, init);
    };
    const client = await connectDirectus(stack.directus.url, { email: stack.directus.adminEmail, password: stack.directus.adminPassword }, measuring);
    const removed = structuredClone(desired);
    for (const name of ["entry_devices", "entry_crew"] as const) removed[name] = {};
    const result = await seedDirectus({ client, desired: removed, previous: desired, limits: { maxBodyBytes: LIMIT_BYTES } });
    expect(result.counts.deletes).toBe(ENTRIES * 5);
    await seedDirectus({ client, desired, previous: removed, limits: { maxBodyBytes: LIMIT_BYTES } });
    expect(sizes.length).toBeGreaterThan(4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMIT_BYTES);
    expect((await rowCounts()).entry_devices).toBe(ENTRIES * 3);
  }, 5 * 60_000);
});
