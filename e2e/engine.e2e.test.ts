/**
 * The real Pulumi engine (the pinned CLI, no language host, no provider plugin) running the project's
 * dynamic resources inline (e2e/engine-program.ts: SqlMigrations pre- and post-schema, DirectusSeed)
 * through `npm run pulumi`, against a database and our Directus image started with plain Docker
 * (stand-ins where no registry answers). Runs on every machine, every `.ci/run`:
 * up → migrated, seeded → a second up changes and writes nothing → one seed edit previewed by name,
 * applied as one update → migration files at preview → drift seen by refresh and repaired by up,
 * a hand-made item left alone → destroy.
 */
import { createItem, deleteItems, readItems, updateItem } from "@directus/sdk";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/directus-client";
import { loadSeedFile } from "../lib/seed/data";
import { seedRecord } from "../lib/seed/record";
import { dockerOrThrow, waitHealthy } from "../scripts/lib/docker";
import { isAlive, stopOrphanedPlugins } from "../scripts/lib/recover";
import { readOutputs } from "../scripts/lib/stack";
import type { DockerStack } from "../tools/plain-docker-stack";
import { bootImageAndContainers, changedSteps, changes, engineRun, engineStack, run, startEngineRun, stepStarted, timerInto, type EngineStack } from "./support";

const STACK = "engine";
/** The containers' prefix: the program's (trm-<stack>), so its ServiceReady resources find them by name. */
const PREFIX = `trm-${STACK}`;
const DIRECTUS_CONTAINER = `${PREFIX}-directus`;
const IMAGE = "trm-directus:engine-e2e";
const ADMIN_EMAIL = "ci@trm.dev";
const M1 = "msc-albania/rally-albania-2026/M-1";
const timings: Record<string, number> = {};
const log = (line: string) => console.log(`engine e2e: ${line}`);

let target: EngineStack;
let containers: DockerStack;

const timed = timerInto(timings);

const admin = () => connectDirectus(containers.directusUrl, { email: ADMIN_EMAIL, password: target.secrets.adminPassword });

async function query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
  const client = new pg.Client(containers.db);
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Item writes Directus recorded (logins aside): what the seed did through the API. */
async function itemWrites(): Promise<{ action: string; collection: string }[]> {
  return query("SELECT action, collection FROM directus_activity WHERE action <> 'login' ORDER BY id");
}

async function className(code: string): Promise<string | undefined> {
  const rows = (await (await admin()).request(readItems("classes", { filter: { code: { _eq: code } }, fields: ["name"] }))) as { name: string }[];
  return rows[0]?.name;
}

beforeAll(async () => {
  target = await engineStack(STACK, {}, log, timings);
  containers = await bootImageAndContainers(target, { prefix: PREFIX, image: IMAGE, adminEmail: ADMIN_EMAIL }, timings);
}, 60 * 60_000);

afterAll(async () => {
  if (target) await engineRun(target, "destroy", ["--program", "e2e/engine-program.ts"]).catch((error: Error) => log(`destroy after the suite: ${error.message}`));
  containers?.remove();
  log(`timings (s): ${JSON.stringify(timings)}`);
});

const program = ["--program", "e2e/engine-program.ts"];

/** Renames a class in the copy's seed file (names as the YAML writes them, quotes included). */
function editSeedName(from: string, to: string): void {
  const seedFile = path.join(target.project, "seed/rally-albania-2026.yaml");
  const text = readFileSync(seedFile, "utf8");
  expect(text).toContain(`name: ${from},`);
  writeFileSync(seedFile, text.replace(`name: ${from},`, `name: ${to},`));
}

const lockDir = () => path.join(target.project, ".pulumi-state", ".pulumi", "locks", "organization", "trm-directus", STACK);
const locks = () => (existsSync(lockDir()) ? readdirSync(lockDir()) : []);
const lockHolders = (): { pid: number }[] => locks().map((f) => JSON.parse(readFileSync(path.join(lockDir(), f), "utf8")));

/** A lock file as the file backend writes one, for `pid` on this machine. */
function writeLock(pid: number): string {
  mkdirSync(lockDir(), { recursive: true });
  const file = path.join(lockDir(), `${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify({ pid, username: os.userInfo().username, hostname: os.hostname(), timestamp: new Date().toISOString() }));
  return file;
}

describe("the real engine with the project's dynamic resources", () => {
  it("pulumi up ends with a migrated, seeded Directus", async () => {
    const up = await timed("firstUp", () => engineRun(target, "up", program));
    // the stack, StackAccess (published ports: no join), two ServiceReady, two migration resources, the seed
    expect(changes(up.changeSummary)).toEqual({ create: 7 });
    expect(up.stdout).toMatch(/database-ready[\s\S]*pre-schema-migrations[\s\S]*post-schema-migrations[\s\S]*seed/);
    expect(up.stdout).toMatch(/ready: the database accepts a connection \(127\.0\.0\.1:\d+\)/);
    expect(up.stdout).toMatch(/ready: Directus answers http:\/\/127\.0\.0\.1:\d+\/server\/health/);
    const applied = await query<{ filename: string }>("SELECT filename FROM migrations_applied ORDER BY filename");
    expect(applied.map((r) => r.filename)).toEqual([
      "001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql",
      "100_organization_users_unique.sql", "101_organization_vehicles_unique.sql", "102_organization_devices_unique.sql",
      "103_events_unique.sql", "104_classes_unique.sql", "105_entries_unique.sql", "106_entry_crew_unique.sql", "107_entry_devices_unique.sql",
    ]);
    const outputs = await readOutputs<{ seededCounts: Record<string, number> }>(target.stack);
    expect(outputs.seededCounts).toMatchObject({ classes: 18, entries: 1, entry_devices: 3, devices: 3 });
    const client = await admin();
    expect(await client.request(readItems("classes", { limit: -1 }))).toHaveLength(18);
    const [entry] = (await client.request(readItems("entries", { filter: { race_number: { _eq: 301 } }, fields: ["id", "status"] }))) as { id: string; status: string }[];
    expect(entry.status).toBe("registered");
    expect(await client.request(readItems("entry_devices", { filter: { entry_id: { _eq: entry.id } } }))).toHaveLength(3);
    expect(await client.request(readItems("entry_crew", { filter: { entry_id: { _eq: entry.id } } }))).not.toHaveLength(0);
  });

  it("keeps the secrets out of the state files in plaintext", () => {
    const state = run("bash", ["-c", "find .pulumi-state -type f ! -name passphrase -exec cat {} +"], { cwd: target.project }).stdout;
    expect(state).toContain("ciphertext");
    for (const key of ["dbPassword", "adminPassword"]) expect(state.includes(target.secrets[key]), key).toBe(false);
  });

  it("a second pulumi up reports 0 changes and writes nothing", async () => {
    const before = await itemWrites();
    const migrations = await query("SELECT filename, applied_at FROM migrations_applied ORDER BY filename");
    const up = await timed("noopUp", () => engineRun(target, "up", [...program, "--expect-no-changes"]));
    expect(changes(up.changeSummary)).toEqual({});
    expect(await itemWrites()).toEqual(before);
    expect(await query("SELECT filename, applied_at FROM migrations_applied ORDER BY filename")).toEqual(migrations);
  });

  it("one seed edit: the preview names it, the up applies exactly that update", async () => {
    const seedFile = path.join(target.project, "seed/rally-albania-2026.yaml");
    writeFileSync(seedFile, readFileSync(seedFile, "utf8").replace("name: MOTO Under 450cc,", "name: MOTO up to 450cc,"));
    const preview = await engineRun(target, "preview", [...program, "--diff"]);
    expect(changedSteps(preview)).toEqual(["update seed"]);
    expect(changes(preview.changeSummary)).toEqual({ update: 1 });
    // the state keeps a record per collection (lib/seed/record.ts): the preview names the collection
    expect(preview.stdout).toMatch(/~ classes\s*: \{[^}]*~ digest\s*: "[0-9a-f]+" => "[0-9a-f]+"/);

    const before = (await itemWrites()).length;
    const up = await engineRun(target, "up", program);
    expect(changes(up.changeSummary)).toEqual({ update: 1 });
    // and the update's log names the item and the field (the provider's stdout, shown by the engine)
    expect(up.stdout).toContain(`~ classes ${M1} (name: "MOTO Under 450cc" → "MOTO up to 450cc")`);
    expect((await itemWrites()).slice(before)).toEqual([{ action: "update", collection: "classes" }]);
    expect(await className("M-1")).toBe("MOTO up to 450cc");
  });

  it("a new db-init file is named by the preview; an edited applied one is refused, naming it", async () => {
    const probe = path.join(target.project, "db-init/004_e2e_probe.sql");
    writeFileSync(probe, "SELECT 1;\n");
    try {
      const preview = await engineRun(target, "preview", [...program, "--diff"]);
      expect(changedSteps(preview)).toEqual(["update pre-schema-migrations"]);
      expect(preview.stdout).toContain("004_e2e_probe.sql");
    } finally {
      rmSync(probe);
    }
    const applied = path.join(target.project, "db-init/002_positions_hypertable.sql");
    const original = readFileSync(applied);
    appendFileSync(applied, "\n-- edited after being applied\n");
    try {
      await expect(engineRun(target, "preview", program)).rejects.toThrow(/checksum mismatch: 002_positions_hypertable\.sql/);
    } finally {
      writeFileSync(applied, original);
    }
  });

  it("drift: refresh shows an item edited and one deleted through the API; up repairs them; a hand-made item is left alone", async () => {
    const client = await admin();
    const [m2] = (await client.request(readItems("classes", { filter: { code: { _eq: "M-2" } }, fields: ["id", "event_id"] }))) as { id: string; event_id: string }[];
    await client.request(updateItem("classes", m2.id, { name: "edited by hand" }));
    await client.request(deleteItems("classes", { filter: { code: { _eq: "M-3" } } }));
    await client.request(createItem("classes", { event_id: m2.event_id, code: "X-9", name: "made by hand", sort_order: 999 }));

    const preview = await engineRun(target, "preview", [...program, "--refresh", "--diff"]);
    expect(preview.stdout).toMatch(/~ classes\s*: \{[^}]*~ count\s*: 17 => 18/);
    expect(preview.stdout).not.toContain("X-9");

    const refresh = await timed("refresh", () => engineRun(target, "refresh", program));
    expect(changes(refresh.changeSummary)).toEqual({ update: 1 });
    const seed = (await target.stack.exportStack()).deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::seed"));
    // M-3 gone (count) and M-2 edited (digest): the hand-made X-9 is not the seed's, so not counted
    const wanted = seedRecord(loadSeedFile(path.join(target.project, "seed/rally-albania-2026.yaml")));
    expect(seed.outputs.collections.classes.count).toBe(17);
    expect(seed.outputs.collections.classes.digest).not.toBe(wanted.classes.digest);
    expect(seed.outputs.collections.events).toEqual(wanted.events);

    const up = await timed("repairUp", () => engineRun(target, "up", program));
    expect(changes(up.changeSummary)).toEqual({ update: 1 });
    expect(await className("M-2")).toBe("MOTO 450-600cc");
    expect(await className("M-3")).toBe("MOTO over 600cc, single cylinder");
    expect(await className("X-9")).toBe("made by hand");
  });

  it("Ctrl-C (SIGINT to the whole group) while a migration is applied: it finishes, the state is saved, the lock released", async () => {
    writeFileSync(path.join(target.project, "db-post/108_e2e_slow.sql"), "SELECT pg_sleep(4);\n");
    const running = startEngineRun(target, "up", program);
    await stepStarted(running, "update", "post-schema-migrations");
    running.signal("SIGINT");
    const { code, stderr } = await running.finished;
    expect(code).not.toBe(0);
    expect(stderr).toContain("interrupted: letting the steps in flight finish");
    expect(await query("SELECT filename FROM migrations_applied WHERE filename = '108_e2e_slow.sql'")).toHaveLength(1);
    expect(locks()).toEqual([]);
    const next = await timed("recover.sigintMigration", () => engineRun(target, "up", program));
    expect(changes(next.changeSummary)).toEqual({});
  });

  it("SIGKILL of everything while a migration is applied: the next run clears the stale lock and the pending step, and applies it", async () => {
    writeFileSync(path.join(target.project, "db-post/109_e2e_slow.sql"), "SELECT pg_sleep(4);\n");
    const running = startEngineRun(target, "up", program);
    await stepStarted(running, "update", "post-schema-migrations");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running.signal("SIGKILL");
    await running.finished;
    // the killed run's lock(s), each of a process that is gone
    expect(locks().length, JSON.stringify(lockHolders())).toBeGreaterThan(0);
    for (const holder of lockHolders()) expect(isAlive(holder.pid), JSON.stringify(holder)).toBe(false);
    expect((await target.stack.exportStack()).deployment.pending_operations).toHaveLength(1);
    const next = await timed("recover.sigkillMigration", () => engineRun(target, "up", program));
    expect(next.stderr).toContain("released the lock of a run that no longer exists");
    expect(next.stderr).toContain("dropped the pending update of post-schema-migrations");
    expect(changes(next.changeSummary)).toEqual({ update: 1 });
    expect(await query("SELECT filename FROM migrations_applied WHERE filename = '109_e2e_slow.sql'")).toHaveLength(1);
    expect(next.stderr).toMatch(/stopped .*dynamic-provider.*: a plugin the killed run left running/);
    expect(await stopOrphanedPlugins(target.project)).toEqual([]);
  });

  it("SIGINT while the seed is applied: the next run converges", async () => {
    editSeedName('"MOTO Senior, under 450cc"', '"MOTO Senior, up to 450cc"');
    const running = startEngineRun(target, "up", program);
    await stepStarted(running, "update", "seed");
    running.signal("SIGINT");
    const { stderr } = await running.finished;
    expect(stderr).toContain("interrupted: letting the steps in flight finish");
    expect(locks()).toEqual([]);
    const next = await timed("recover.sigintSeed", () => engineRun(target, "up", program));
    expect(changes(next.changeSummary)).toEqual({});
    expect(await className("M-5")).toBe("MOTO Senior, up to 450cc");
  });

  it("SIGKILL of everything while the seed is applied: the next run re-applies it (it is idempotent)", async () => {
    editSeedName('"MOTO Senior, over 450cc"', '"MOTO Senior, 450cc and over"');
    const running = startEngineRun(target, "up", program);
    await stepStarted(running, "update", "seed");
    running.signal("SIGKILL");
    await running.finished;
    // The seed's step takes a fraction of a second: the kill lands before the engine recorded it as
    // pending, while it is pending, or after it was recorded. Every case must converge.
    const pending = (await target.stack.exportStack()).deployment.pending_operations ?? [];
    const next = await timed("recover.sigkillSeed", () => engineRun(target, "up", program));
    if (pending.length > 0) expect(next.stderr).toContain("dropped the pending update of seed");
    expect([{}, { update: 1 }]).toContainEqual(changes(next.changeSummary));
    expect(await className("M-6")).toBe("MOTO Senior, 450cc and over");
    expect(changes((await engineRun(target, "up", program)).changeSummary)).toEqual({});
  });

  it("a stale lock is released with a message; a live one refuses, naming the pid", async () => {
    const dead = spawnSync("true").pid!; // a pid that just ended
    writeLock(dead);
    const next = await timed("recover.staleLock", () => engineRun(target, "up", program));
    expect(next.stderr).toMatch(new RegExp(`released the lock of a run that no longer exists \\(pid ${dead},`));
    expect(changes(next.changeSummary)).toEqual({});

    const live = writeLock(process.pid);
    try {
      await expect(engineRun(target, "up", program)).rejects.toThrow(new RegExp(`another \`npm run dev\` \\(or pulumi\\) is running on stack engine \\(pid ${process.pid}`));
    } finally {
      rmSync(live);
    }
  });

  it("a refresh while Directus does not answer fails, saying so, and leaves the state as it was", async () => {
    const seedState = async () => {
      const seed = (await target.stack.exportStack()).deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::seed"));
      return { inputs: seed.inputs, outputs: seed.outputs };
    };
    const before = await seedState();
    dockerOrThrow(["stop", DIRECTUS_CONTAINER]);
    try {
      await expect(engineRun(target, "refresh", program)).rejects.toThrow(/cannot read the seed back from Directus at http:\/\/127\.0\.0\.1:\d+: .*the state was left as it was/);
      expect(await seedState()).toEqual(before);
    } finally {
      dockerOrThrow(["start", DIRECTUS_CONTAINER]);
      waitHealthy(DIRECTUS_CONTAINER, 300);
    }
    const refresh = await timed("recover.refreshAfterDirectusBack", () => engineRun(target, "refresh", program));
    expect(changes(refresh.changeSummary)).toEqual({});
  });

  it("a service whose container fails ends the up at once with its failed start-up step, not at the timeout (600 s)", async () => {
    const failing = `${PREFIX}-failing`;
    const lines = [
      "[trm-startup] ==> 1/5 pre-schema migrations from /directus/trm/db-init",
      "[trm-startup] ==> 4/5 post-schema migrations from /directus/trm/db-post",
      "db-post: SQL error in 200_broken.sql:1:1: syntax error at or near \"SELEC\"",
      "[trm-startup] FAILED at step 4/5 post-schema migrations (exit 3): Directus was not started",
    ];
    const script = `${lines.map((line) => `echo '${line}'`).join("; ")}; exit 3`;
    dockerOrThrow(["rm", "-f", failing]);
    dockerOrThrow(["run", "-d", "--name", failing, "--restart", "unless-stopped", "--entrypoint", "sh", IMAGE, "-c", script]);
    const env = target.env;
    target.env = { ...env, TRM_E2E_FAILING_CONTAINER: failing };
    try {
      const started = Date.now();
      const failure = await engineRun(target, "up", program).then(() => undefined, (error: Error) => error.message);
      expect(failure).toContain(`the Directus container ${failing} is not starting`);
      expect(failure).toContain("its start-up failed at step 4/5 post-schema migrations (exit 3)");
      expect(failure).toContain('SQL error in 200_broken.sql:1:1');
      expect(failure).toContain("next: the migrations step failed");
      log(`a failing container ended the up after ${(Date.now() - started) / 1000} s`);
    } finally {
      target.env = env;
      dockerOrThrow(["rm", "-f", failing]);
    }
    // the failed wait recorded nothing: the next up (without that container) has nothing to do
    const up = await engineRun(target, "up", [...program, "--expect-no-changes"]);
    expect(changes(up.changeSummary)).toEqual({});
  });

  it("pulumi destroy removes the seeded items the hand-made one does not hold, and leaves no resource", async () => {
    const destroy = await timed("destroy", () => engineRun(target, "destroy", program));
    expect(changes(destroy.changeSummary)).toEqual({ delete: 7 });
    expect(await className("M-1")).toBeUndefined();
    expect(await className("X-9")).toBe("made by hand");
    const resources = (await target.stack.exportStack()).deployment.resources ?? [];
    expect(resources).toEqual([]);
    dockerOrThrow(["inspect", DIRECTUS_CONTAINER]); // the containers are the suite's, not the program's
  });
});
