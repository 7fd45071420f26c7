/**
 * The image's start-up script (scripts/image/startup.sh), run as it is, outside a container, against
 * the real Directus 11.17.4 runtime (its folder mirrors the image's /directus, pm2-runtime included)
 * and PostgreSQL 16, with the bundled runner from `npm run build:image`.
 */
import { createField, createItem, deleteField, readCollections, readItems, updateRelation } from "@directus/sdk";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandMadeCollection } from "./support/hand-made";
import { buildImageBundle, IMAGE_BUNDLE_DIR } from "../lib/build/image-bundle";
import { newClient } from "../lib/db/client";
import { dbEnv, type DbSettings } from "../lib/db/settings";
import { DRIFT_TABLE } from "../lib/schema/drift-record";
import { readSchemaFingerprint } from "../lib/schema/fingerprint";
import { ensureDirectusRuntime, inheritedEnv, type DirectusRuntime } from "../tools/directus-runtime/index";
import { containerFailedError } from "../lib/readiness";
import { REPO_ROOT, runTsScript } from "./support/cli";
import { adminClient } from "../tools/harness/directus";
import { freePort } from "../lib/free-port";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

const STARTUP = path.join(REPO_ROOT, "scripts/image/startup.sh");
const ADMIN_EMAIL = "admin@example.com";
const BOOT_TIMEOUT_MS = 180_000;

let pg: TestPostgres;
let runtime: DirectusRuntime;
let db: DbSettings;
const work = mkdtempSync(path.join(os.tmpdir(), "trm-startup-"));

interface Boot {
  child: ChildProcess;
  url: string;
  adminPassword: string;
  /** stdout and stderr as they arrived. */
  output: () => string;
  /** stderr alone: the script sends everything to stdout. */
  stderr: () => string;
  exit: Promise<number | null>;
}

function boot(extraEnv: Record<string, string> = {}, port?: number): Promise<Boot> {
  return freePort().then((freshPort) => {
    const p = port ?? freshPort;
    const url = `http://127.0.0.1:${p}`;
    const adminPassword = "Startup-Test-Admin-1";
    const child = spawn("sh", [STARTUP], {
      cwd: work,
      env: {
        ...inheritedEnv(),
        PATH: `${runtime.binDir}${path.delimiter}${process.env.PATH}`,
        PM2_HOME: path.join(work, "pm2"),
        DIRECTUS_DIR: runtime.dir,
        TRM_BIN: path.join(REPO_ROOT, IMAGE_BUNDLE_DIR),
        DB_INIT_DIR: path.join(REPO_ROOT, "db-init"),
        DB_POST_DIR: path.join(REPO_ROOT, "db-post"),
        SCHEMA_SNAPSHOT: path.join(REPO_ROOT, "snapshots/schema.yaml"),
        DB_CLIENT: "pg",
        ...dbEnv(db),
        KEY: "startup-test-key-0123456789abcdef",
        SECRET: "startup-test-secret-0123456789abcdef",
        ADMIN_EMAIL,
        ADMIN_PASSWORD: adminPassword,
        HOST: "127.0.0.1",
        PORT: String(p),
        PUBLIC_URL: url,
        TELEMETRY: "false",
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: stop() signals pm2-runtime and Directus together
    });
    let output = "";
    let stderr = "";
    child.stdout!.on("data", (c) => (output += c));
    child.stderr!.on("data", (c) => ((output += c), (stderr += c)));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, url, adminPassword, output: () => output, stderr: () => stderr, exit };
  });
}

/** Resolves when Directus answers ok, or rejects with the log when the script exits first. */
async function healthy(b: Boot): Promise<void> {
  let exited: number | null | undefined;
  void b.exit.then((code) => (exited = code));
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`start-up exited with ${exited} before Directus was healthy:\n${b.output()}`);
    try {
      const health = (await (await fetch(`${b.url}/server/health`)).json()) as { status?: string };
      if (health.status === "ok") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Directus not healthy after ${BOOT_TIMEOUT_MS / 1000} s:\n${b.output()}`);
}

async function stop(b: Boot): Promise<void> {
  try {
    process.kill(-b.child.pid!, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => process.kill(-b.child.pid!, "SIGKILL"), 15_000);
  await b.exit;
  clearTimeout(timer);
}

/** The processes still in the boot's process group (the script, pm2-runtime, Directus): pid, command line, RSS. */
function processesOf(b: Boot): { pid: number; cmdline: string; rssMb: number }[] {
  const found = [];
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== b.child.pid || fields[0] === "Z") continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      found.push({ pid: Number(entry), cmdline, rssMb: (Number(fields[21]) * 4096) / 2 ** 20 });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = BOOT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A copy of schema.yaml without one collection (its fields and relations too). */
function snapshotWithout(collection: string): string {
  const snapshot = parse(readFileSync(path.join(REPO_ROOT, "snapshots/schema.yaml"), "utf8"));
  snapshot.collections = snapshot.collections.filter((c: { collection: string }) => c.collection !== collection);
  snapshot.fields = snapshot.fields.filter((f: { collection: string }) => f.collection !== collection);
  snapshot.relations = snapshot.relations.filter((r: { collection: string; related_collection: string }) => r.collection !== collection && r.related_collection !== collection);
  const file = path.join(work, `without-${collection}.yaml`);
  writeFileSync(file, stringify(snapshot));
  return file;
}

/** A copy of schema.yaml in which organizations.slug is a text field (a type change). */
function snapshotWithStringSlug(): string {
  const snapshot = parse(readFileSync(path.join(REPO_ROOT, "snapshots/schema.yaml"), "utf8"));
  const slug = snapshot.fields.find((f: { collection: string; field: string }) => f.collection === "organizations" && f.field === "slug");
  slug.type = "text";
  slug.schema.data_type = "text";
  slug.schema.max_length = null;
  const file = path.join(work, "text-slug.yaml");
  writeFileSync(file, stringify(snapshot));
  return file;
}

const count = async (sql: string) => (await pg.query<{ n: number }>(db, sql))[0].n;
const columnType = async (table: string, column: string) =>
  (await pg.query<{ t: string }>(db, "SELECT data_type AS t FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", [table, column]))[0]?.t;
const handNote = async () => (await pg.query<{ v: string }>(db, "SELECT hand_note AS v FROM organizations WHERE slug = 'hand-club'"))[0]?.v;
/** "status kind item" of each recorded drift item. */
const driftRows = async () =>
  (await pg.query<{ r: string }>(db, `SELECT status || ' ' || kind || ' ' || item AS r FROM ${DRIFT_TABLE} ORDER BY 1`)).map((row) => row.r);
const columnExists = async (table: string, column: string) =>
  (await pg.query<{ n: number }>(db, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", [table, column]))[0].n === 1;
const onDelete = async (constraint: string) =>
  (await pg.query<{ action: string }>(db, "SELECT confdeltype AS action FROM pg_constraint WHERE conname = $1", [constraint]))[0]?.action;
async function fingerprint(): Promise<string | null> {
  const client = newClient(db);
  await client.connect();
  try {
    return await readSchemaFingerprint(client);
  } finally {
    await client.end();
  }
}
const admin = (b: Boot) => adminClient({ url: b.url, adminEmail: ADMIN_EMAIL, adminPassword: b.adminPassword } as never);
const tableExists = async (table: string) =>
  (await pg.query<{ t: string | null }>(db, "SELECT to_regclass($1)::text AS t", [table]))[0].t !== null;
const recorded = async () => (await pg.query<{ n: number }>(db, "SELECT count(*)::int AS n FROM migrations_applied"))[0].n;

beforeAll(async () => {
  await buildImageBundle(REPO_ROOT);
  runtime = await ensureDirectusRuntime();
  pg = await startPostgres();
  db = await pg.createDatabase("startup");
}, 15 * 60_000);

afterAll(async () => {
  await pg?.stop();
});

describe("the image start-up script", () => {
  it("brings a fresh database to a healthy Directus with all 12 collections and every migration recorded", async () => {
    const b = await boot();
    try {
      await healthy(b);
      const client = await admin(b);
      const all = (await client.request(readCollections())) as { collection: string; meta: unknown }[];
      const collections = all.filter((c) => c.meta !== null && !c.collection.startsWith("directus_")).map((c) => c.collection).sort();
      // SQL-owned tables are visible to Directus as plain tables, never tracked collections
      expect(all.filter((c) => c.meta === null).map((c) => c.collection).sort()).toEqual(["migrations_applied", "positions"]);
      expect(collections).toEqual([
        "classes", "devices", "entries", "entry_crew", "entry_devices", "events",
        "organization_devices", "organization_users", "organization_vehicles", "organizations", "vehicles",
      ]);
      const userFields = await pg.query<{ column_name: string }>(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'directus_users' AND column_name IN ('phone', 'birth_date', 'nationality') ORDER BY 1");
      expect(userFields.map((r) => r.column_name)).toEqual(["birth_date", "nationality", "phone"]);
      expect(await recorded()).toBe(3 + 8);
      const markers = b.output().match(/\[trm-startup\] ==> \d\/5/g);
      expect(markers).toEqual(["[trm-startup] ==> 1/5", "[trm-startup] ==> 2/5", "[trm-startup] ==> 3/5", "[trm-startup] ==> 4/5", "[trm-startup] ==> 5/5"]);
      // pm2 started with step 1, but what it printed meanwhile was held back until step 5
      expect(b.output().indexOf("Launching in no daemon mode")).toBeGreaterThan(b.output().indexOf("==> 5/5"));
      expect(b.output()).toContain("db-init complete: 3 applied, 0 skipped");
      expect(b.output()).toContain("bootstrap: running Directus's bootstrap, in the Directus process the schema step goes on with (Directus is not installed on this database)");
      expect(b.output()).toContain("Adding first admin user..."); // Directus's own bootstrap lines, relayed
      expect(b.output()).toContain("schema: applied schema.yaml");
      expect(b.output()).toContain("db-init complete: 8 applied, 0 skipped");
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("Directus loads while the steps run and is held, off the database, until step 4 is done", async () => {
    const fresh = await pg.createDatabase("gate");
    const postDir = path.join(work, "db-post-slow");
    cpSync(path.join(REPO_ROOT, "db-post"), postDir, { recursive: true });
    writeFileSync(path.join(postDir, "999_slow.sql"), "SELECT pg_sleep(4);\n");
    const b = await boot({ ...dbEnv(fresh), DB_POST_DIR: postDir });
    try {
      const activity = (where: string) =>
        pg.query<{ n: number }>(fresh, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`).then((rows) => rows[0].n);
      await until("step 4's slow migration", async () => (await activity("query LIKE 'SELECT pg_sleep(4)%' AND state = 'active'")) === 1);
      const held = () => processesOf(b).find((p) => p.cmdline.includes("server-gate.mjs") && p.cmdline.includes("ProcessContainer"));
      // pm2's Directus has loaded its modules (~250 MB) by the time the slow step 4 runs...
      await until("Directus's modules loaded", () => (held()?.rssMb ?? 0) > 150, 20_000);
      expect(b.output()).not.toContain("==> 5/5");
      // ...and has neither opened its port nor a connection to the database
      await expect(fetch(`${b.url}/server/health`)).rejects.toThrow();
      expect(await activity("query NOT LIKE 'SELECT pg_sleep(4)%'")).toBe(0);
      await healthy(b);
      expect(b.output()).toContain("==> 5/5");
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("a stop signal to the script alone (docker stop, through the container's init) stops Directus and leaves no process behind", async () => {
    const b = await boot();
    await healthy(b);
    process.kill(b.child.pid!, "SIGTERM");
    await b.exit;
    await until("pm2 and Directus to exit", () => processesOf(b).length === 0, 15_000);
  }, BOOT_TIMEOUT_MS + 60_000);

  it("on a restart every step reports nothing to do, and Directus is healthy again", async () => {
    const b = await boot();
    try {
      await healthy(b);
      const out = b.output();
      expect(out).toContain("db-init complete: 0 applied, 3 skipped");
      // neither bootstrap nor the schema step loaded Directus: each knew it had nothing to do
      expect(out).toContain("bootstrap: skipped: Directus is installed and every migration it ships is applied");
      expect(out).not.toContain("Initializing bootstrap");
      expect(out).toContain("schema: no changes: the database already matches schema.yaml");
      expect(out).toContain("schema: (neither schema.yaml nor the database schema changed since the last comparison, so Directus was not asked again)");
      expect(out).toContain("db-init complete: 0 applied, 8 skipped");
      expect(await recorded()).toBe(11);
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("sees admin-UI changes between two boots: a field removed and a relation edited are put back at the next boot", async () => {
    const first = await boot();
    let changed: string | null;
    try {
      await healthy(first);
      const client = await admin(first);
      await client.request(createItem("organizations", { name: "Relation Club", slug: "relation-club" }));
      const before = await fingerprint();
      await client.request(createField("organizations", { field: "website", type: "string", meta: { interface: "input" }, schema: {} } as never));
      const withField = await fingerprint();
      expect(withField).not.toBe(before); // a field added
      await client.request(deleteField("organizations", "website"));
      expect(await fingerprint()).toBe(before); // and removed again: the same schema, the same fingerprint

      await client.request(deleteField("vehicles", "cc"));
      const withoutCc = await fingerprint();
      expect(withoutCc).not.toBe(before); // a field of schema.yaml removed
      // the whole relation, as the admin UI sends it (without collection and field Directus 11.17.4 crashes)
      await client.request(
        updateRelation("events", "organization_id", { collection: "events", field: "organization_id", related_collection: "organizations", schema: { on_delete: "CASCADE" } } as never),
      );
      changed = await fingerprint();
      expect(changed).not.toBe(withoutCc); // a relation edited
      expect(await onDelete("events_organization_id_foreign")).toBe("c");
    } finally {
      await stop(first);
    }

    const second = await boot();
    try {
      await healthy(second);
      const out = second.output();
      expect(out).not.toContain("Directus was not asked again");
      expect(out).toContain("schema: | Create field vehicles.cc");
      expect(out).toContain("schema: | Update relation events.organization_id → organizations (schema.on_delete)");
      expect(out).toContain("schema: applied schema.yaml");
      expect(await columnExists("vehicles", "cc")).toBe(true);
      expect(await onDelete("events_organization_id_foreign")).toBe("r");
      expect(await fingerprint()).not.toBe(changed);
      // the edit was the database side's (the snapshot did not change): reported, no data lost
      expect(out).toContain("schema: !! SCHEMA DRIFT: 1 admin-UI edit was put back to the snapshot's definition (no data lost):");
      expect(out).toContain("schema: !!   relation events.organization_id → organizations: edited in the database; the snapshot's definition was applied over it");
      expect(await driftRows()).toEqual(["reverted relation events.organization_id → organizations"]);
      expect(await count("SELECT count(*)::int AS n FROM organizations WHERE slug = 'relation-club'")).toBe(1);
    } finally {
      await stop(second);
    }
  }, 2 * BOOT_TIMEOUT_MS + 60_000);

  it("a field added by hand survives every restart with its value, is reported, captured with Directus stopped, and goes only once deletions are allowed", async () => {
    const first = await boot();
    try {
      await healthy(first);
      const client = await admin(first);
      await client.request(createField("organizations", { field: "hand_note", type: "string", meta: { interface: "input" }, schema: {} } as never));
      await client.request(createItem("organizations", { name: "Hand Club", slug: "hand-club", hand_note: "typed by hand" }));
    } finally {
      await stop(first);
    }

    const restarted = await boot();
    try {
      await healthy(restarted);
      const out = restarted.output();
      expect(out).toContain("schema: | Delete field organizations.hand_note");
      expect(out).toContain("schema: !! SCHEMA DRIFT: the database has 1 thing the snapshot lacks; KEPT, not deleted (Directus starts anyway):");
      expect(out).toContain("schema: !!   field organizations.hand_note: only in the database (string, column character varying)");
      expect(out).toContain("schema: !! to keep it: capture it: npm run stack -- schema:snapshot");
      expect(out).toContain("schema: !! to drop it: allow the deletion once: SCHEMA_ALLOW_DELETIONS=true for one boot");
      expect(out).toContain("==> 5/5");
      expect(await handNote()).toBe("typed by hand");
      expect(await driftRows()).toEqual(["kept field organizations.hand_note"]);
    } finally {
      await stop(restarted);
    }

    // the next restart takes the shortcut (nothing changed since) and repeats the drift
    const again = await boot();
    try {
      await healthy(again);
      expect(again.output()).toContain("Directus was not asked again");
      expect(again.output()).toContain("schema: !!   field organizations.hand_note: only in the database");
    } finally {
      await stop(again);
    }

    // Directus is down: the capture reads the database alone
    const captured = path.join(work, "captured.yaml");
    const capture = await runTsScript("scripts/schema-snapshot.ts", ["--out", captured], { DIRECTUS_URL: "", ...dbEnv(db) });
    expect(capture.code, capture.output).toBe(0);
    const snapshot = parse(readFileSync(captured, "utf8")) as { fields: { collection: string; field: string }[] };
    expect(snapshot.fields.some((f) => f.collection === "organizations" && f.field === "hand_note")).toBe(true);

    // with the captured snapshot there is nothing left to report
    const withCapture = await boot({ SCHEMA_SNAPSHOT: captured });
    try {
      await healthy(withCapture);
      expect(withCapture.output()).toContain("schema: no changes: the database already matches captured.yaml");
      expect(await driftRows()).toEqual([]);
    } finally {
      await stop(withCapture);
    }

    const allowed = await boot({ SCHEMA_ALLOW_DELETIONS: "true" });
    try {
      await healthy(allowed);
      expect(allowed.output()).toContain("schema: deletions allowed (--allow-deletions (or SCHEMA_ALLOW_DELETIONS=true)): field organizations.hand_note");
      expect(await columnExists("organizations", "hand_note")).toBe(false);
      expect(await driftRows()).toEqual([]);
    } finally {
      await stop(allowed);
    }
  }, 6 * BOOT_TIMEOUT_MS);

  it("a collection added by hand survives a restart with its rows, is reported, and goes only once deletions are allowed", async () => {
    const first = await boot();
    try {
      await healthy(first);
      const client = await admin(first);
      await createHandMadeCollection(client, "hand_notes");
    } finally {
      await stop(first);
    }

    const restarted = await boot();
    try {
      await healthy(restarted);
      expect(restarted.output()).toContain("schema: !!   collection hand_notes: only in the database (2 fields, with its data)");
      expect(await count("SELECT count(*)::int AS n FROM hand_notes")).toBe(1);
      expect(await driftRows()).toEqual(["kept collection hand_notes"]);
      const items = await (await admin(restarted)).request(readItems("hand_notes"));
      expect(items).toHaveLength(1); // Directus serves it too
    } finally {
      await stop(restarted);
    }

    const allowed = await boot({ SCHEMA_ALLOW_DELETIONS: "true" });
    try {
      await healthy(allowed);
      expect(await tableExists("hand_notes")).toBe(false);
      expect(await driftRows()).toEqual([]);
    } finally {
      await stop(allowed);
    }
  }, 3 * BOOT_TIMEOUT_MS + 60_000);

  it("runs bootstrap again when the image ships a Directus migration the database lacks (an upgrade)", async () => {
    const migrations = path.join(work, "directus-migrations");
    mkdirSync(migrations, { recursive: true });
    writeFileSync(
      path.join(migrations, "20990101A-trm-bootstrap-probe.js"),
      "module.exports = { async up(knex) { await knex.schema.createTable('trm_bootstrap_probe', (t) => t.increments()); }, async down(knex) { await knex.schema.dropTable('trm_bootstrap_probe'); } };\n",
    );
    const upgraded = await boot({ MIGRATIONS_PATH: migrations });
    try {
      await healthy(upgraded);
      expect(upgraded.output()).toContain("bootstrap: running Directus's bootstrap, in the Directus process the schema step goes on with (1 of its migrations are not applied, e.g. 20990101A)");
      expect(await tableExists("trm_bootstrap_probe")).toBe(true);
    } finally {
      await stop(upgraded);
    }
    const again = await boot({ MIGRATIONS_PATH: migrations });
    try {
      await healthy(again);
      expect(again.output()).toContain("bootstrap: skipped");
    } finally {
      await stop(again);
    }
  }, 2 * BOOT_TIMEOUT_MS + 60_000);

  it("stops before Directus starts when a migration is broken, with the SQL error as the last lines", async () => {
    const dir = path.join(work, "db-init-broken");
    cpSync(path.join(REPO_ROOT, "db-init"), dir, { recursive: true });
    writeFileSync(path.join(dir, "004_broken.sql"), "CREATE TABLE half_done (id int);\nSELEC 1;\n");
    const b = await boot({ DB_INIT_DIR: dir });
    const code = await b.exit;
    expect(code).toBe(3);
    const lines = b.output().trim().split("\n");
    expect(lines.at(-2)).toMatch(/SQL error in 004_broken\.sql:2:1: syntax error at or near "SELEC"/);
    expect(lines.at(-1)).toContain("FAILED at step 1/5 pre-schema migrations (exit 3): Directus was not started");
    expect(b.stderr()).toBe(""); // one stream, so the order above is the order written, not pipe timing
    expect(b.output()).not.toContain("==> 2/5");
    expect(await tableExists("half_done")).toBe(false);
    expect(processesOf(b)).toEqual([]); // the Directus pm2 started meanwhile went with it
    // what `pulumi up` and `npm run dev`'s ready check print when the container shows this log (lib/readiness.ts)
    const shown = containerFailedError("trm-dev-directus", { status: "restarting", restarts: 2, exitCode: 3 }, b.output()).message;
    expect(shown).toContain("the Directus container trm-dev-directus is not starting (restarting, 2 restarts, exit code 3): its start-up failed at step 1/5 pre-schema migrations (exit 3).");
    expect(shown).toMatch(/ {2}\| .*SQL error in 004_broken\.sql:2:1/);
    expect(shown).toContain("next: the migrations step failed: a SQL error names file:line:column");
  }, BOOT_TIMEOUT_MS);

  it("a bad schema setting stops at step 3/5 before bootstrap touches a fresh database", async () => {
    const fresh = await pg.createDatabase("bad_setting");
    const b = await boot({ ...dbEnv(fresh), SCHEMA_APPLY_MODE: "yolo" });
    expect(await b.exit).toBe(1);
    const lines = b.output().trim().split("\n");
    expect(lines.at(-2)).toContain('schema: ERROR SCHEMA_APPLY_MODE must be one of apply, dry-run, skip, got "yolo"');
    expect(lines.at(-1)).toContain("FAILED at step 3/5 schema (exit 1): Directus was not started");
    expect((await pg.query<{ t: string | null }>(fresh, "SELECT to_regclass('directus_collections')::text AS t"))[0].t).toBeNull();
  }, BOOT_TIMEOUT_MS);

  it("a failing bootstrap stops at step 2/5 with Directus's error, the schema step never begun", async () => {
    const fresh = await pg.createDatabase("bad_bootstrap");
    const migrations = path.join(work, "failing-directus-migrations");
    mkdirSync(migrations, { recursive: true });
    writeFileSync(
      path.join(migrations, "20990101B-trm-failing-probe.js"),
      "module.exports = { async up() { throw new Error('trm probe: this migration fails'); }, async down() {} };\n",
    );
    const b = await boot({ ...dbEnv(fresh), MIGRATIONS_PATH: migrations });
    expect(await b.exit).toBe(1);
    const out = b.output();
    expect(out).toContain("bootstrap: ERROR `directus bootstrap` failed: ");
    expect(out).toContain("trm probe: this migration fails");
    expect(out.trim().split("\n").at(-1)).toContain("FAILED at step 2/5 bootstrap (exit 1): Directus was not started");
    expect(out).not.toContain("==> 3/5");
  }, BOOT_TIMEOUT_MS);

  it("a snapshot that lacks a collection keeps it (with its rows) and starts Directus, reporting the drift", async () => {
    const b = await boot({ SCHEMA_SNAPSHOT: snapshotWithout("entry_devices") });
    try {
      await healthy(b);
      expect(b.output()).toContain("schema: | Delete collection entry_devices");
      expect(b.output()).toContain("schema: !!   collection entry_devices: only in the database (4 fields, with its data)");
      expect(await tableExists("entry_devices")).toBe(true);
      expect(await driftRows()).toEqual(["kept collection entry_devices"]);
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("a type change in the snapshot is held back: the column and its values stay, the rest is applied", async () => {
    await pg.query(db, "INSERT INTO organizations (id, name, slug) VALUES (gen_random_uuid(), 'Type Club', 'type-club')");
    const b = await boot({ SCHEMA_SNAPSHOT: snapshotWithStringSlug() });
    try {
      await healthy(b);
      expect(b.output()).toContain("schema: !!   field organizations.slug: type change not applied: string, column character varying in the database, text, column text in the snapshot");
      expect(await columnType("organizations", "slug")).toBe("character varying");
      expect(await count("SELECT count(*)::int AS n FROM organizations WHERE slug = 'type-club'")).toBe(1);
      expect(await driftRows()).toEqual(["held-back field organizations.slug"]);
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("dry-run prints what would change, applies nothing and starts Directus", async () => {
    const b = await boot({ SCHEMA_SNAPSHOT: snapshotWithout("entry_devices"), SCHEMA_APPLY_MODE: "dry-run" });
    try {
      await healthy(b);
      expect(b.output()).toMatch(/entry_devices/);
      expect(b.output()).toContain("dry run: nothing applied");
      expect(await tableExists("entry_devices")).toBe(true);
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it("skip leaves the schema alone and starts Directus", async () => {
    const b = await boot({ SCHEMA_SNAPSHOT: snapshotWithout("entry_devices"), SCHEMA_APPLY_MODE: "skip" });
    try {
      await healthy(b);
      expect(b.output()).toContain("skipped (mode skip)");
      expect(b.output()).not.toContain("dry run");
      expect(await tableExists("entry_devices")).toBe(true);
    } finally {
      await stop(b);
    }
  }, BOOT_TIMEOUT_MS + 60_000);
});

describe("the image build inputs", () => {
  it("every COPY source of the Dockerfile exists after `npm run build:image`", () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
    const sources = [...dockerfile.matchAll(/^COPY(?:[ \t]+--\S+)*((?:[ \t]+\S+)+)[ \t]+\S+$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
    expect(sources).toEqual([
      "dist/image/bin/", "db-init/", "db-post/", "snapshots/", "extensions/",
      "scripts/image/startup.sh", "scripts/image/ecosystem.config.cjs", "scripts/image/server-gate.mjs",
    ]);
    for (const source of sources) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
    // and .dockerignore lets each of them into the build context
    const allowed = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8").split("\n").filter((line) => line.startsWith("!")).map((line) => line.slice(1));
    for (const source of sources) expect(allowed.some((entry) => source.startsWith(entry) || entry.startsWith(source)), source).toBe(true);
    for (const runner of ["db-init", "bootstrap", "schema-apply", "directus-setup", "schema-worker"]) {
      expect(existsSync(path.join(REPO_ROOT, IMAGE_BUNDLE_DIR, `${runner}.cjs`)), runner).toBe(true);
    }
  });

  /** Runs one of the bundled runners from a copy of the bundle with no node_modules anywhere above it. */
  async function runBare(runner: string, args: string[], env: Record<string, string>): Promise<{ code: unknown; out: string }> {
    const bare = mkdtempSync(path.join(os.tmpdir(), "trm-bare-"));
    cpSync(path.join(REPO_ROOT, IMAGE_BUNDLE_DIR), bare, { recursive: true });
    cpSync(path.join(REPO_ROOT, "db-init"), path.join(bare, "db-init"), { recursive: true });
    cpSync(path.join(REPO_ROOT, "db-post"), path.join(bare, "db-post"), { recursive: true });
    const run = spawn(runtime.nodeBin, [path.join(bare, `${runner}.cjs`), ...args.map((a) => (path.isAbsolute(a) ? a : path.join(bare, a)))], {
      cwd: bare,
      env: { PATH: "/usr/bin:/bin", ...env, DB_INIT_DIR: path.join(bare, "db-init"), DB_POST_DIR: path.join(bare, "db-post") },
    });
    let out = "";
    run.stdout.on("data", (c) => (out += c));
    run.stderr.on("data", (c) => (out += c));
    const code = await new Promise((r) => run.on("exit", r));
    return { code, out };
  }

  it("the bundled runner runs under plain node with no node_modules beside it", async () => {
    const { code, out } = await runBare("db-init", ["db-init"], dbEnv(await pg.createDatabase("bare")));
    expect(code, out).toBe(0);
    expect(out).toContain("db-init complete: 3 applied, 0 skipped");
  });

  it("so do the bootstrap and schema steps, PostgreSQL client included", async () => {
    const env = { DB_CLIENT: "pg", ...dbEnv(db), DIRECTUS_DIR: runtime.dir };
    const bootstrap = await runBare("bootstrap", [], env);
    expect(bootstrap.code, bootstrap.out).toBe(0);
    expect(bootstrap.out).toContain("bootstrap: skipped");
    const schema = await runBare("schema-apply", [path.join(REPO_ROOT, "snapshots/schema.yaml")], env);
    expect(schema.code, schema.out).toBe(0);
    expect(schema.out).toContain("schema: no changes: the database already matches schema.yaml");
  });
});
