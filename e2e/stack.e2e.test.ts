/**
 * The whole program (index.ts) under the real Pulumi engine and the real docker, postgresql and
 * command plugins, driven through the Automation API as the npm scripts drive it, in a copy of the
 * project with its own state backend and stack `e2e` (the ci stack's config, backups on):
 * up → healthy, migrated, seeded, real hypertable, outputs, no secret in state or image → a second up
 * changes nothing → one seed edit previews as exactly that update → migration files at preview →
 * drift (hand edits) seen by refresh and repaired by up → destroy dumps the database, db:restore
 * brings it back → destroy leaves nothing.
 * Offline machines: Docker, stand-in images and the CLI are brought by the same code as `npm run dev`
 * (scripts/lib/machine.ts, scripts/lib/pulumi-cli.ts); the provider plugins must be in Pulumi's plugin
 * cache (`npm run test:e2e:stack` skips the suite with one line otherwise: scripts/require-plugins.ts).
 * Each operation runs the program inline in a process of its own (`npm run pulumi`, e2e/support.ts).
 */
import { createItem, deleteItems, readItems, updateItem } from "@directus/sdk";
import { Stack } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus, resendSafeRequestsOnClosedSocket } from "../lib/directus-client";
import { loadSeedFile } from "../lib/seed/data";
import { seedRecord } from "../lib/seed/record";
import { DEFAULT_DATABASE_IMAGE } from "../lib/stack-config";
import { docker, waitHealthy } from "../scripts/lib/docker";
import { useFreePorts } from "../scripts/ci-ports";
import { ensureSecrets, readOutputs } from "../scripts/lib/stack";
import { changedSteps, changes, engineRun, engineStack, timerInto, type EngineRun, type EngineStack } from "./support";

const STACK = "e2e";
const timings: Record<string, number> = {};
const log = (line: string) => console.log(`e2e: ${line}`);

let target: EngineStack;
let project: string;
let stack: Stack;
let env: NodeJS.ProcessEnv;
let outputs: Record<string, any>;
let secrets: Record<string, string>;

const timed = timerInto(timings);

const secretEnv = (name: string): string => outputs.portainerStack.env.find((e: { name: string }) => e.name === name).value;

async function withDb<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: outputs.databaseHost,
    port: outputs.databasePort,
    database: outputs.databaseName,
    user: outputs.databaseUser,
    password: secretEnv("DB_PASSWORD"),
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const execFileAsync = promisify(execFile);

/** Whether the database image is the offline stand-in (a SQL-only TimescaleDB test double), not the real one. */
const databaseIsStandIn = (): boolean =>
  docker(["image", "inspect", "-f", '{{ index .Config.Labels "org.trm.standin" }}', DEFAULT_DATABASE_IMAGE]).stdout === "true";

const admin = () =>
  connectDirectus(outputs.directusUrl, { email: outputs.adminEmail, password: secretEnv("ADMIN_PASSWORD") });

/** Every file of the stack's state backend (state, backups, history), as stored: no secret may be readable there. */
function expectNoPlaintextSecretsInState(): void {
  const stateFiles = readdirSync(path.join(project, ".pulumi-state"), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== "passphrase")
    .map((entry) => path.join(entry.parentPath, entry.name));
  expect(stateFiles.length).toBeGreaterThan(0);
  const text = stateFiles.map((file) => readFileSync(file, "utf8")).join("\n");
  expect(text).toContain("ciphertext");
  for (const [key, value] of Object.entries(secrets)) expect(text.includes(value), key).toBe(false);
}

async function className(code: string): Promise<string | undefined> {
  const client = await admin();
  const rows = (await client.request(readItems("classes", { filter: { code: { _eq: code } }, fields: ["name"] }))) as { name: string }[];
  return rows[0]?.name;
}

/**
 * An npm script of the project copy against the e2e stack (its state backend and passphrase). Async:
 * while a script restarts Directus, the event loop must see the test's kept-alive sockets close.
 */
async function npmScript(script: string, args: string[] = []): Promise<string> {
  const argv = ["run", "--silent", script, "--", ...args];
  try {
    const { stdout } = await execFileAsync("npm", argv, { cwd: project, env: { ...env, TRM_STACK: STACK }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`npm ${argv.join(" ")} failed (exit ${code}):\n${stdout}\n${stderr}`);
  }
}

beforeAll(async () => {
  target = await engineStack(STACK, { backupOnDestroy: "true" }, log, timings);
  ({ stack, project, env, secrets } = target);
}, 90 * 60_000);

afterAll(async () => {
  if (!target) return;
  // never leave containers behind, even when a step failed
  await engineRun(target, "destroy").catch((error: Error) => log(`destroy after the suite failed: ${error.message}`));
  log(`timings (s): ${JSON.stringify(timings)}`);
  writeFileSync(path.join(os.tmpdir(), "trm-e2e-timings.json"), JSON.stringify(timings, null, 2));
});

describe("the ci stack, as the Gitea workflow starts", () => {
  it("pulumi preview passes: every resource to create, no error", async () => {
    const ci = await Stack.createOrSelect("ci", stack.workspace);
    await ensureSecrets(ci);
    await useFreePorts(ci);
    const preview = await engineRun({ ...target, name: "ci" }, "preview", ["--diff"]);
    expect(changes(preview.changeSummary)).toEqual({ create: expect.any(Number) });
    expect(preview.stdout).not.toMatch(/error:/);
  });
});

describe("pulumi up on a fresh stack", () => {
  let up: EngineRun;

  it("yields a migrated, seeded stack in one run", async () => {
    up = await timed("firstUp", () => engineRun(target, "up"));
    expect(changes(up.changeSummary)).toEqual({ create: expect.any(Number) });
    outputs = await readOutputs(stack);
  });

  it("runs both containers healthy (Docker's own status follows at its next check)", () => {
    // `up` waited for the services themselves; Docker says "healthy" at its next check, within one
    // interval (≤ 2 s) and a check's timeout (5 s). waitHealthy throws, with the logs, otherwise.
    for (const name of [outputs.databaseContainer, outputs.directusContainer]) waitHealthy(name, 10);
  });

  it("recorded every migration of db-init and db-post", async () => {
    const rows = await withDb((c) => c.query("SELECT filename FROM migrations_applied ORDER BY filename"));
    expect(rows.rows.map((r) => r.filename)).toEqual([
      "001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql",
      "100_organization_users_unique.sql", "101_organization_vehicles_unique.sql", "102_organization_devices_unique.sql",
      "103_events_unique.sql", "104_classes_unique.sql", "105_entries_unique.sql", "106_entry_crew_unique.sql", "107_entry_devices_unique.sql",
    ]);
  });

  it("makes positions a hypertable on ts with 1-day chunks (a real one: an insert creates a chunk)", async () => {
    if (databaseIsStandIn()) {
      // The stand-in database carries the SQL test double (no registry serves TimescaleDB): it records
      // the call; chunks are proven on real TimescaleDB SQL in npm test (test/timescaledb.test.ts).
      log("database is the stand-in with the TimescaleDB TEST DOUBLE: checking the recorded create_hypertable call, not chunks");
      const recorded = await withDb((c) => c.query("SELECT table_name, column_name, chunk_interval FROM _timescaledb_double.hypertables"));
      expect(recorded.rows).toEqual([{ table_name: "positions", column_name: "ts", chunk_interval: "1 day" }]);
      return;
    }
    await withDb(async (c) => {
      expect((await c.query("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")).rows).toEqual([{ extversion: "2.17.2" }]);
      const hypertables = await c.query("SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public'");
      expect(hypertables.rows).toEqual([{ hypertable_name: "positions" }]);
      const dimensions = await c.query(
        "SELECT column_name, time_interval::text AS time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'positions'",
      );
      expect(dimensions.rows).toEqual([{ column_name: "ts", time_interval: "1 day" }]);
      // A day nothing else writes to; rolled back, so the row and its chunk leave no trace.
      const ts = "1999-06-15 12:00:00+00";
      const chunksAt = `SELECT count(*)::int AS n FROM timescaledb_information.chunks
        WHERE hypertable_name = 'positions' AND range_start <= $1::timestamptz AND range_end > $1::timestamptz`;
      await c.query("BEGIN");
      try {
        expect((await c.query(chunksAt, [ts])).rows[0].n).toBe(0);
        const inserted = await c.query(
          `INSERT INTO positions (device_id, ts, latitude, longitude, altitude, angle, speed, satellites, priority, attributes, codec)
           VALUES ('e2e-chunk-probe', $1, 41.33, 19.82, 110, 90, 12.5, 9, 0, '{}'::jsonb, '8E')
           RETURNING tableoid::regclass::text AS stored_in`,
          [ts],
        );
        expect(inserted.rows[0].stored_in).toMatch(/^_timescaledb_internal\._hyper_\d+_\d+_chunk$/);
        expect((await c.query(chunksAt, [ts])).rows[0].n).toBe(1);
      } finally {
        await c.query("ROLLBACK");
      }
    });
  });

  it("has the 12 collections and the seeded Rally Albania rows, read through the SDK", async () => {
    const client = await admin();
    const classes = await client.request(readItems("classes", { limit: -1 }));
    expect(classes).toHaveLength(18);
    const [entry] = (await client.request(readItems("entries", { filter: { race_number: { _eq: 301 } }, fields: ["id", "status"] }))) as { id: string; status: string }[];
    expect(entry.status).toBe("registered");
    expect(await client.request(readItems("entry_devices", { filter: { entry_id: { _eq: entry.id } } }))).toHaveLength(3);
    expect(await client.request(readItems("entry_crew", { filter: { entry_id: { _eq: entry.id } } }))).not.toHaveLength(0);
    expect(await npmScript("stack", ["smoke"])).toContain("smoke: all checks passed");
  });

  it("exports the outputs Portainer and the scripts use", async () => {
    expect(outputs.directusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await resendSafeRequestsOnClosedSocket()(`${outputs.directusUrl}/server/health`)).json()).toMatchObject({ status: "ok" });
    expect(outputs.adminEmail).toBe("ci@trm.dev");
    expect(outputs.imageId).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(outputs.volumes).toEqual({ data: `trm-${STACK}-pgdata`, uploads: `trm-${STACK}-uploads` });
    expect(outputs.seededCounts.classes).toBe(18);
    expect(outputs.portainerStack.compose).toContain("image: git.dev.microservices.al/trm/directus:main");
    for (const [key, value] of Object.entries(secrets)) expect(outputs.portainerStack.compose.includes(value), key).toBe(false);
  });

  it("keeps every secret out of the state in plaintext", () => {
    expectNoPlaintextSecretsInState();
  });

  it("bakes no secret into the image", () => {
    const history = docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", `trm-directus:${STACK}`]).stdout;
    const inspect = docker(["image", "inspect", `trm-directus:${STACK}`]).stdout;
    for (const [key, value] of Object.entries(secrets)) {
      expect(history.includes(value), key).toBe(false);
      expect(inspect.includes(value), key).toBe(false);
    }
  });
});

describe("a second pulumi up", () => {
  it("changes nothing", async () => {
    const up = await timed("noopUp", () => engineRun(target, "up", ["--expect-no-changes"]));
    expect(changes(up.changeSummary)).toEqual({});
  });
});

describe("changing one seed value", () => {
  it("pulumi preview --diff shows exactly that one update, naming the collection", async () => {
    const seedFile = path.join(project, "seed/rally-albania-2026.yaml");
    writeFileSync(seedFile, readFileSync(seedFile, "utf8").replace("name: MOTO Under 450cc,", "name: MOTO up to 450cc,"));
    const preview = await engineRun(target, "preview", ["--diff"]);
    expect(changedSteps(preview)).toEqual(["update seed"]);
    expect(changes(preview.changeSummary)).toEqual({ update: 1 });
    // the state keeps a record per collection (lib/seed/record.ts): the preview names the collection
    expect(preview.stdout).toMatch(/~ classes\s*: \{[^}]*~ digest\s*: "[0-9a-f]+" => "[0-9a-f]+"/);
  });

  it("pulumi up applies it and nothing else, naming the item and field", async () => {
    const up = await engineRun(target, "up");
    expect(changes(up.changeSummary)).toEqual({ update: 1 });
    expect(up.stdout).toContain('~ classes msc-albania/rally-albania-2026/M-1 (name: "MOTO Under 450cc" → "MOTO up to 450cc")');
    expect(await className("M-1")).toBe("MOTO up to 450cc");
  });
});

describe("migration files at preview", () => {
  it("names a new db-init file", async () => {
    const probe = path.join(project, "db-init/004_e2e_probe.sql");
    writeFileSync(probe, "SELECT 1;\n");
    try {
      const preview = await engineRun(target, "preview", ["--diff"]);
      expect(preview.stdout).toContain("004_e2e_probe.sql");
    } finally {
      rmSync(probe);
    }
  });

  it("fails on an edited applied file, naming it", async () => {
    const applied = path.join(project, "db-init/002_positions_hypertable.sql");
    const original = readFileSync(applied);
    appendFileSync(applied, "\n-- edited after being applied\n");
    try {
      await expect(engineRun(target, "preview")).rejects.toThrow(/checksum mismatch: 002_positions_hypertable\.sql/);
    } finally {
      writeFileSync(applied, original);
    }
  });
});

describe("drift", () => {
  it("pulumi refresh records a class edited and one deleted by hand; preview --refresh --diff names the collection", async () => {
    const client = await admin();
    const [m2] = (await client.request(readItems("classes", { filter: { code: { _eq: "M-2" } }, fields: ["id"] }))) as { id: string }[];
    await client.request(updateItem("classes", m2.id, { name: "edited by hand" }));
    await client.request(deleteItems("classes", { filter: { code: { _eq: "M-3" } } }));

    const preview = await engineRun(target, "preview", ["--refresh", "--diff"]);
    expect(preview.stdout).toMatch(/~ classes\s*: \{[^}]*~ count\s*: 17 => 18/);

    const refresh = await engineRun(target, "refresh");
    expect(changes(refresh.changeSummary)).toEqual({ update: 1 });
    const state = await stack.exportStack();
    const seed = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::seed"));
    // M-3 gone (the count) and M-2 edited (the digest): the record per collection, as Directus holds it now
    const wanted = seedRecord(loadSeedFile(path.join(project, "seed/rally-albania-2026.yaml")));
    expect(seed.outputs.collections.classes.count).toBe(17);
    expect(seed.outputs.collections.classes.digest).not.toBe(wanted.classes.digest);
    expect(seed.outputs.collections.events).toEqual(wanted.events);
    expect(seed.outputs.counts.classes).toBe(17);
    expectNoPlaintextSecretsInState();
  });

  it("the next pulumi up restores exactly those, with one change", async () => {
    const up = await timed("repairUp", () => engineRun(target, "up"));
    expect(changes(up.changeSummary)).toEqual({ update: 1 });
    expect(await className("M-2")).toBe("MOTO 450-600cc");
    expect(await className("M-3")).toBe("MOTO over 600cc, single cylinder");
  });

  it("pulumi up --refresh repairs drift in one step; the next one finds nothing", async () => {
    const client = await admin();
    await client.request(deleteItems("classes", { filter: { code: { _eq: "M-4" } } }));
    const up = await timed("refreshUp", () => engineRun(target, "up", ["--refresh"]));
    expect(changes(up.changeSummary)).toEqual({ update: 1 });
    expect(await className("M-4")).toBe("MOTO over 600cc, bi-cylinder");
    const again = await engineRun(target, "up", ["--refresh"]);
    expect(changes(again.changeSummary)).toEqual({});
  });
});

describe("destroy and restore", () => {
  let dump: string;

  it("pulumi destroy first dumps the database to backups/ (0600)", async () => {
    const client = await admin();
    const [event] = (await client.request(readItems("events", { fields: ["id"], limit: 1 }))) as { id: string }[];
    await client.request(createItem("classes", { event_id: event.id, code: "X-1", name: "made by hand before the destroy", sort_order: 999 }));
    await timed("destroyWithBackup", () => engineRun(target, "destroy"));
    const backups = readdirSync(path.join(project, "backups")).filter((f) => /^e2e-\d{8}T\d{6}Z\.dump$/.test(f));
    expect(backups).toHaveLength(1);
    dump = path.join(project, "backups", backups[0]);
    expect(statSync(dump).mode & 0o777).toBe(0o600);
    expect(readFileSync(dump).subarray(0, 5).toString()).toBe("PGDMP");
  });

  it("npm run db:restore brings it back into a fresh stack, hand-made rows included", async () => {
    await engineRun(target, "up");
    outputs = await readOutputs(stack);
    expect(await className("X-1")).toBeUndefined();
    await timed("restore", () => npmScript("db:restore", [dump]));
    expect(await className("X-1")).toBe("made by hand before the destroy");
    expect(await className("M-1")).toBe("MOTO up to 450cc");
    if (databaseIsStandIn()) {
      // the test double's record of the hypertable points at the old table's oid, which a restore
      // changes (real TimescaleDB's timescaledb_post_restore() handles that): the table is what counts
      const positions = await withDb((c) => c.query("SELECT to_regclass('public.positions')::text AS t"));
      expect(positions.rows).toEqual([{ t: "positions" }]);
      return;
    }
    const hypertables = await withDb((c) => c.query("SELECT hypertable_name FROM timescaledb_information.hypertables"));
    expect(hypertables.rows.map((r) => r.hypertable_name)).toContain("positions");
  });
});

describe("pulumi destroy", () => {
  it("leaves no container, network or (for this stack's config) volume behind", async () => {
    await timed("destroy", () => engineRun(target, "destroy"));
    const filter = `name=trm-${STACK}-`;
    expect(docker(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]).stdout).toBe("");
    expect(docker(["network", "ls", "--filter", filter, "--format", "{{.Name}}"]).stdout).toBe("");
    expect(docker(["volume", "ls", "--filter", filter, "--format", "{{.Name}}"]).stdout).toBe("");
    expect(existsSync(path.join(project, "backups"))).toBe(true);
  });
});
