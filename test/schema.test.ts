/**
 * The schema against the real runtime: Directus 11.17.4 (Node 22) on PostgreSQL 16.
 * ONE Directus for the whole file, on a database set up in the image's start-up order; the tests
 * run in order and build on each other (the guard scenarios change the schema last). The upgrade
 * scenario at the end has its own database and Directus.
 */
import {
  createField,
  createItem,
  createUser,
  deleteItem,
  deleteUser,
  isDirectusError,
  readItem,
  readItems,
  schemaSnapshot,
  updateCollection,
} from "@directus/sdk";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandMadeCollection } from "./support/hand-made";
import { dbEnv } from "../lib/db/settings";
import { runMigrations } from "../lib/migrations/runner";
import { applySchema, DirectusCliError, type ApplySchemaOptions } from "../lib/schema/directus-cli";
import { DRIFT_TABLE } from "../lib/schema/drift-record";
import { parseSnapshot } from "../lib/schema/snapshot";
import { startDirectus } from "../tools/directus-runtime/index";
import { runTsScript } from "./support/cli";
import { adminClient, DB_INIT_DIR, DB_POST_DIR, MIGRATION_DIRS, SCHEMA_FILE, startDirectusWithSchema, type AdminClient, type DirectusWithSchema } from "../tools/harness/directus";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

const COMPOSITE_UNIQUES = [
  "organization_users_organization_id_user_id_unique",
  "organization_vehicles_organization_id_vehicle_id_unique",
  "organization_devices_organization_id_device_id_unique",
  "events_organization_id_slug_unique",
  "classes_event_id_code_unique",
  "entries_event_id_race_number_unique",
  "entry_crew_entry_id_user_id_unique",
  "entry_devices_entry_id_device_id_unique",
];

/** The first run on a machine installs the runtime (~3-4 min) inside this hook. */
const COLD_INSTALL_TIMEOUT_MS = 15 * 60_000;

let pg: TestPostgres;
let stack: DirectusWithSchema;
let client: AdminClient;
let work: string;

beforeAll(async () => {
  pg = await startPostgres();
  work = await mkdtemp(path.join(os.tmpdir(), "trm-schema-test-"));
  stack = await startDirectusWithSchema(pg, {
    // A fix already in the hypertable before Directus ever runs: the apply must leave it alone.
    beforeSchema: (db) =>
      pg.query(db, `INSERT INTO positions (device_id, ts, latitude, longitude, altitude, angle, speed, satellites, priority, attributes, codec)
                    VALUES ('356307042441013', now(), 41.33, 19.82, 110, 90, 0, 12, 0, '{}', '8E')`).then(() => undefined),
  });
  client = await stack.client();
}, COLD_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await stack?.directus.stop();
  await pg?.stop();
});

const query = <R extends object>(sql: string, params?: unknown[]) => pg.query<R>(stack.db, sql, params);
const count = async (sql: string, params?: unknown[]) => Number((await query<{ n: string }>(sql, params))[0].n);
const tableExists = async (table: string) => (await query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table]))[0].t !== null;
const columnExists = async (table: string, column: string) =>
  (await count("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", [table, column])) === 1;

function cliOptions(overrides: Partial<ApplySchemaOptions> & { log: (line: string) => void }): ApplySchemaOptions {
  return {
    directusDir: stack.directus.runtime.dir,
    nodeBin: stack.directus.runtime.nodeBin,
    snapshotPath: SCHEMA_FILE,
    mode: "apply",
    allowDeletions: false,
    env: stack.directus.env,
    migrationDirs: MIGRATION_DIRS,
    ...overrides,
  };
}

/** The Directus error codes of a rejected request. */
async function rejection(request: Promise<unknown>): Promise<{ codes: string[]; message: string }> {
  try {
    await request;
  } catch (error) {
    if (!isDirectusError(error)) throw error;
    return { codes: error.errors.map((e) => e.extensions.code), message: error.errors.map((e) => e.message).join("; ") };
  }
  throw new Error("the request was accepted");
}

function restEnv(): Record<string, string> {
  return { DIRECTUS_URL: stack.directus.url, DIRECTUS_ADMIN_EMAIL: stack.directus.adminEmail, DIRECTUS_ADMIN_PASSWORD: stack.directus.adminPassword };
}

describe("start-up order on a fresh PostgreSQL 16", () => {
  it("pre-schema migrations → bootstrap → apply schema.yaml → post-schema migrations succeeds", async () => {
    const { preSchema, schema, postSchema, log } = stack.startup;
    expect(preSchema.applied).toEqual(["001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql"]);
    expect(schema.status).toBe("applied");
    expect(schema.plan?.create.collections).toHaveLength(11);
    expect(schema.plan?.hasDeletions).toBe(false);
    expect(log).toContain("schema: | Create collection organizations"); // Directus's diff went to the log first
    expect(log).toContain("schema: applied schema.yaml");
    expect(postSchema.applied).toHaveLength(8);

    expect(await count("SELECT count(*) AS n FROM pg_constraint WHERE conname = ANY($1)", [COMPOSITE_UNIQUES])).toBe(8);
    expect(await count("SELECT count(*) AS n FROM directus_collections WHERE collection IN ('positions', 'migrations_applied')")).toBe(0);
    // The SQL-owned tables were there before the apply and are untouched by it.
    expect(await count("SELECT count(*) AS n FROM positions")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM migrations_applied")).toBe(11);
  });

  it("applying again is a no-op, schema and post-schema migrations alike", async () => {
    const log: string[] = [];
    const again = await applySchema(cliOptions({ log: (line) => log.push(line) }));
    expect(again.status).toBe("unchanged");
    expect(log).toContain("schema: no changes: the database already matches schema.yaml");
    // known without Directus: the apply was confirmed and recorded, and nothing changed since
    expect(log).toContain("schema: (neither schema.yaml nor the database schema changed since the last comparison, so Directus was not asked again)");

    // Without that record, Directus compares, finds nothing, and the record is back.
    await query("DELETE FROM trm_startup.schema_state");
    const compared: string[] = [];
    const full = await applySchema(cliOptions({ log: (line) => compared.push(line) }));
    expect(full).toMatchObject({ status: "unchanged", plan: { hasChanges: false } });
    expect(compared).toEqual(["schema: no changes: the database already matches schema.yaml"]);
    expect(await count("SELECT count(*) AS n FROM trm_startup.schema_state")).toBe(1);

    expect(await runMigrations({ dirs: [DB_POST_DIR], db: stack.db })).toMatchObject({ applied: [], skipped: expect.arrayContaining(["100_organization_users_unique.sql"]) });
    // Each file is harmless on its own too (the existence check), e.g. after a guard-table loss.
    for (const { filename } of await query<{ filename: string }>("SELECT filename FROM migrations_applied WHERE filename >= '100'")) {
      await query(await readFile(path.join(DB_POST_DIR, filename), "utf8"));
    }
    expect(await count("SELECT count(*) AS n FROM pg_constraint WHERE conname = ANY($1)", [COMPOSITE_UNIQUES])).toBe(8);
  });

  it("apply before bootstrap: plain Directus exits 0 with an error, ours fails loudly", async () => {
    const fresh = await pg.createDatabase("not_bootstrapped");
    const env = { ...stack.directus.env, DB_DATABASE: fresh.database };
    const plain = await stack.directus.cli(["schema", "apply", "--yes", SCHEMA_FILE], { DB_DATABASE: fresh.database });
    expect(plain.code).toBe(0);
    expect(plain.output).toContain("Directus isn't installed on this database");

    const ours = applySchema(cliOptions({ env, log: () => undefined }));
    await expect(ours).rejects.toThrow(DirectusCliError);
    await expect(ours).rejects.toThrow(/Directus is not installed on this database: run `node cli.js bootstrap` first/);
  });

  it("plain Directus fails on a snapshot with a ghost `positions`; our apply strips it", async () => {
    // What snapshots of a migrated database looked like before Directus ignored untracked tables.
    const ghost = parseSnapshot(await readFile(SCHEMA_FILE, "utf8"));
    ghost.collections.push({ collection: "positions", meta: null, schema: { name: "positions" } });
    for (const [field, type, data_type] of [["device_id", "text", "text"], ["ts", "timestamp", "timestamp with time zone"]]) {
      ghost.fields.push({ collection: "positions", field, type, meta: null, schema: { name: field, table: "positions", data_type, is_nullable: false } });
    }
    const ghostFile = path.join(work, "ghost.yaml");
    await writeFile(ghostFile, YAML.stringify(ghost));

    const plain = await stack.directus.cli(["schema", "apply", "--yes", ghostFile], { LOG_LEVEL: "info" });
    expect(plain.output).toMatch(/Failed to create collection "positions"/);
    expect(plain.output).toMatch(/already exists/);

    const log: string[] = [];
    const ours = await applySchema(cliOptions({ snapshotPath: ghostFile, log: (line) => log.push(line) }));
    expect(ours.status).toBe("unchanged");
    expect(log).toContain("schema: left out of ghost.yaml: SQL-owned positions");
    expect(await count("SELECT count(*) AS n FROM positions")).toBe(1);
  });

  it("a snapshot without `positions` leaves the table and its rows alone (Directus ignores it: no primary key)", async () => {
    const raw = await client.request(schemaSnapshot());
    expect(raw.collections.map((c) => c.collection)).not.toContain("positions");
    const plain = await stack.directus.cli(["schema", "apply", "--yes", SCHEMA_FILE], { LOG_LEVEL: "info" });
    expect(plain.code).toBe(0);
    expect(plain.output).toContain('Collection "positions" doesn\'t have a primary key column and will be ignored');
    expect(plain.output).toContain("No changes to apply.");
    expect(await count("SELECT count(*) AS n FROM positions")).toBe(1);
  });
});

describe("the data model through @directus/sdk", () => {
  let organization: Record<string, string>;
  let event: Record<string, string>;

  beforeAll(async () => {
    organization = await client.request(createItem("organizations", { name: "Motorsport Club Albania", slug: "msc-albania" }));
    event = await client.request(
      createItem("events", {
        organization_id: organization.id, name: "Rally Albania 2026", slug: "rally-albania-2026", discipline: "rally",
        starts_at: "2026-06-06T00:00:00Z", ends_at: "2026-06-13T23:59:59Z",
      }),
    );
  });

  it("enforces required fields", async () => {
    for (const [collection, item, field] of [
      ["organizations", { name: "No Slug Club" }, "slug"],
      ["devices", { model: "FMB920" }, "imei"],
      ["vehicles", { make: "Toyota" }, "model"],
      ["events", { organization_id: "00000000-0000-0000-0000-000000000000", name: "x", slug: "x", discipline: "rally", starts_at: "2026-01-01T00:00:00Z" }, "ends_at"],
      ["entries", { event_id: "00000000-0000-0000-0000-000000000000" }, "race_number"],
      ["entry_crew", { role: "pilot" }, "entry_id"],
      ["entry_crew", { entry_id: "00000000-0000-0000-0000-000000000000", user_id: "00000000-0000-0000-0000-000000000000" }, "role"],
    ] as const) {
      const { codes, message } = await rejection(client.request(createItem(collection, item)));
      expect(codes, collection).toContain("FAILED_VALIDATION");
      expect(message, collection).toContain(`"${field}"`);
    }
    expect(await count("SELECT count(*) AS n FROM organizations")).toBe(1);
  });

  it("refuses a duplicate IMEI", async () => {
    await client.request(createItem("devices", { imei: "356307042441013", model: "FMB920" }));
    const { codes, message } = await rejection(client.request(createItem("devices", { imei: "356307042441013", model: "FMB003" })));
    expect(codes).toEqual(["RECORD_NOT_UNIQUE"]);
    expect(message).toContain('"imei"');
  });

  it("refuses a duplicate (event, race number), not the same number in another event", async () => {
    const entry = await client.request(createItem("entries", { event_id: event.id, race_number: 301 }));
    expect(entry).toMatchObject({ status: "registered" }); // the default lifecycle state
    const { codes, message } = await rejection(client.request(createItem("entries", { event_id: event.id, race_number: 301 })));
    expect(codes).toEqual(["RECORD_NOT_UNIQUE"]);
    expect(message).toContain("event_id, race_number");

    const other = await client.request(
      createItem("events", { organization_id: organization.id, name: "Rally Albania 2027", slug: "rally-albania-2027", discipline: "rally", starts_at: "2027-06-05T00:00:00Z", ends_at: "2027-06-12T23:59:59Z" }),
    );
    await expect(client.request(createItem("entries", { event_id: other.id, race_number: 301 }))).resolves.toMatchObject({ race_number: 301 });
  });

  it("refuses a duplicate (organization, user)", async () => {
    const user = await client.request(createUser({ email: "member@example.com", first_name: "Erion", last_name: "Hoxha" }));
    await client.request(createItem("organization_users", { organization_id: organization.id, user_id: user.id, role: "marshal" }));
    const { codes, message } = await rejection(client.request(createItem("organization_users", { organization_id: organization.id, user_id: user.id, role: "viewer" })));
    expect(codes).toEqual(["RECORD_NOT_UNIQUE"]);
    expect(message).toContain("organization_id, user_id");
  });

  it("refuses to delete an organization that still has an event (ON DELETE RESTRICT)", async () => {
    const { message } = await rejection(client.request(deleteItem("organizations", organization.id)));
    expect(message).toMatch(/violates foreign key constraint "events_organization_id_foreign"/);
    await expect(client.request(readItem("organizations", organization.id))).resolves.toMatchObject({ slug: "msc-albania" });
  });

  it("clears assigned_user_id when the user wearing an entry device is deleted (ON DELETE SET NULL)", async () => {
    const pilot = await client.request(createUser({ email: "pilot@example.com", first_name: "Arben", last_name: "Kola" }));
    const entry = await client.request(createItem("entries", { event_id: event.id, race_number: 302 }));
    const button = await client.request(createItem("devices", { imei: "356307042441021", model: "FMB003" }));
    const worn = await client.request(createItem("entry_devices", { entry_id: entry.id, device_id: button.id, assigned_user_id: pilot.id }));

    await client.request(deleteUser(pilot.id));
    await expect(client.request(readItem("entry_devices", worn.id))).resolves.toMatchObject({ device_id: button.id, assigned_user_id: null });
  });
});

describe("schema:snapshot", () => {
  it("reproduces snapshots/schema.yaml byte for byte, with no SQL-owned table", async () => {
    const out = path.join(work, "captured.yaml");
    const result = await runTsScript("scripts/schema-snapshot.ts", ["--out", out], restEnv());
    expect(result.code, result.output).toBe(0);
    const captured = await readFile(out, "utf8");
    expect(captured).toBe(await readFile(SCHEMA_FILE, "utf8"));
    const names = parseSnapshot(captured).collections.map((c) => c.collection);
    expect(names).not.toContain("positions");
    expect(names).not.toContain("migrations_applied");

    const diff = await runTsScript("scripts/schema-diff.ts", [], restEnv());
    expect(diff.code, diff.output).toBe(0);
    expect(diff.stdout).toContain("schema:diff: no changes");
  });

  it("reads the same snapshot from the database alone (Directus's getSnapshot, no server asked)", async () => {
    const out = path.join(work, "from-database.yaml");
    const result = await runTsScript("scripts/schema-snapshot.ts", ["--out", out], { DIRECTUS_URL: "", ...dbEnv(stack.db) });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("with Directus's own getSnapshot (no Directus server needed)");
    expect(await readFile(out, "utf8")).toBe(await readFile(SCHEMA_FILE, "utf8"));
  });

  it("leaves out a SQL table even after someone configured it in the admin UI (a tracked ghost)", async () => {
    await client.request(updateCollection("migrations_applied", { meta: { note: "configured by hand in the admin UI" } }));
    const raw = await client.request(schemaSnapshot());
    expect(raw.collections.map((c) => c.collection)).toContain("migrations_applied"); // Directus now snapshots it

    const out = path.join(work, "captured-again.yaml");
    const result = await runTsScript("scripts/schema-snapshot.ts", ["--out", out], restEnv());
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("SQL-owned, left out: migrations_applied");
    expect(await readFile(out, "utf8")).toBe(await readFile(SCHEMA_FILE, "utf8"));

    // Plain Directus would now drop the guard table; ours sees nothing to do (and the CLI adapter's
    // refusal below lists exactly the admin-UI changes, not migrations_applied).
    const plainDryRun = await stack.directus.cli(["schema", "apply", "--dry-run", SCHEMA_FILE]);
    expect(plainDryRun.output).toMatch(/Delete migrations_applied/);
    const diff = await runTsScript("scripts/schema-diff.ts", [], restEnv());
    expect(diff.stdout).toContain("schema:diff: no changes");
    expect(await tableExists("migrations_applied")).toBe(true);
  });
});

describe("the destructive guard", () => {
  beforeAll(async () => {
    // Admin-UI changes that were never captured into schema.yaml: a collection and a field, with data.
    await createHandMadeCollection(client, "scratch_notes");
    await client.request(createField("organizations", { field: "website", type: "string", meta: { interface: "input" }, schema: {} } as never));
    await query("UPDATE organizations SET website = 'https://www.rallyalbania.org'");
  });

  const unchanged = async () => {
    expect(await tableExists("scratch_notes")).toBe(true);
    expect(await count("SELECT count(*) AS n FROM scratch_notes")).toBe(1);
    expect(await columnExists("organizations", "website")).toBe(true);
    expect(await count("SELECT count(*) AS n FROM directus_collections WHERE collection = 'scratch_notes'")).toBe(1);
  };

  it("schema:apply refuses a snapshot that lacks a collection and a field, lists them, changes nothing", async () => {
    const result = await runTsScript("scripts/schema-apply.ts", [], restEnv());
    expect(result.code, result.output).toBe(5);
    expect(result.stdout).toContain("schema:apply: | Delete collection scratch_notes");
    expect(result.stderr).toContain("schema:apply: ERROR schema apply refused: it would delete 1 collection, 1 field:");
    expect(result.stderr).toContain("  - collection scratch_notes (with all its fields and data)");
    expect(result.stderr).toContain("  - field organizations.website");
    expect(result.stderr).toContain("--allow-deletions");
    await unchanged();
  });

  it("the start-up's adapter keeps them, applies the rest, and records the drift instead of failing", async () => {
    const log: string[] = [];
    const dryRun = await applySchema(cliOptions({ mode: "dry-run", log: (line) => log.push(line) }));
    expect(dryRun.status).toBe("planned");
    expect(log).toContain("schema: WARNING: an apply would not delete collection scratch_notes (with all its fields and data) unless deletions are allowed");

    const kept = await applySchema(cliOptions({ log: (line) => log.push(line) }));
    expect(kept.status).toBe("applied");
    expect(kept.plan!.delete).toEqual({ collections: ["scratch_notes"], fields: ["organizations.website"], relations: [] });
    expect(kept.drift!.map((d) => `${d.status} ${d.kind} ${d.item}`)).toEqual(["kept collection scratch_notes", "kept field organizations.website"]);
    expect(log).toContain("schema: | Delete collection scratch_notes");
    expect(log).toContain("schema: | Delete field organizations.website");
    expect(log).toContain("schema: nothing of schema.yaml to apply beyond what is held back below");
    expect(log).toContain("schema: !!   field organizations.website: only in the database (string, column character varying)");
    expect(await count(`SELECT count(*) AS n FROM ${DRIFT_TABLE}`)).toBe(2);

    // nothing changed since: the next boot knows without Directus, and says the drift again
    const again: string[] = [];
    const repeated = await applySchema(cliOptions({ log: (line) => again.push(line) }));
    expect(repeated.status).toBe("unchanged");
    expect(repeated.drift).toEqual(kept.drift);
    expect(again).toContain("schema: no changes: the database already has all of schema.yaml");
    expect(again).toContain("schema: !!   collection scratch_notes: only in the database (2 fields, with its data)");
    await unchanged();
  });

  it("applies the deletions when they are explicitly allowed", async () => {
    const result = await runTsScript("scripts/schema-apply.ts", [], { ...restEnv(), SCHEMA_ALLOW_DELETIONS: "true" });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("schema:apply: applied");
    expect(await tableExists("scratch_notes")).toBe(false);
    expect(await columnExists("organizations", "website")).toBe(false);
    // Data and SQL-owned tables survived; the instance matches schema.yaml again.
    expect(await count("SELECT count(*) AS n FROM organizations")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM positions")).toBe(1);
    expect(await tableExists("migrations_applied")).toBe(true);
    const entries = await client.request(readItems("entries", { fields: ["race_number"], sort: ["race_number"] }));
    expect(entries.map((e) => e.race_number)).toEqual([301, 301, 302]);
    const diff = await runTsScript("scripts/schema-diff.ts", [], restEnv());
    expect(diff.stdout).toContain("schema:diff: no changes");
  });

  it("why it matters: a plain `directus schema apply --yes` drops a SQL table that Directus tracks", async () => {
    const plain = await stack.directus.cli(["schema", "apply", "--yes", SCHEMA_FILE], { LOG_LEVEL: "info" });
    expect(plain.output).toContain("Snapshot applied successfully");
    expect(await tableExists("migrations_applied")).toBe(false);
  });
});

describe("upgrading a database made with the previous snapshot (the start-up applies schema.yaml on every boot)", () => {
  it("entry_crew.role becomes NOT NULL and required once every crew row has a role", async () => {
    // The snapshot before the change (HEAD's until it was committed), derived so the test keeps upgrading after that.
    const previous = parseSnapshot(await readFile(SCHEMA_FILE, "utf8"));
    const role = previous.fields.find((f) => f.collection === "entry_crew" && f.field === "role")!;
    role.meta = { ...role.meta, required: false };
    role.schema = { ...role.schema, is_nullable: true };
    const previousFile = path.join(work, "previous.yaml");
    await writeFile(previousFile, YAML.stringify(previous));

    const db = await pg.createDatabase("upgrade");
    const sql = <R extends object>(text: string) => pg.query<R>(db, text);
    const roleColumn = () =>
      sql(`SELECT c.is_nullable, f.required FROM information_schema.columns c JOIN directus_fields f ON f.collection = c.table_name AND f.field = c.column_name
           WHERE c.table_name = 'entry_crew' AND c.column_name = 'role'`);
    await runMigrations({ dirs: [DB_INIT_DIR], db });
    const upgraded = await startDirectus({
      db,
      async afterBootstrap({ env, cli }) {
        expect((await cli(["schema", "apply", "--yes", previousFile], { LOG_LEVEL: "info" })).output).toContain("Snapshot applied successfully");
        await runMigrations({ dirs: [DB_POST_DIR], db });
        await sql(`WITH o AS (INSERT INTO organizations (id, name, slug) VALUES (gen_random_uuid(), 'Motorsport Club Albania', 'msc-albania') RETURNING id),
                        e AS (INSERT INTO events (id, organization_id, discipline, name, slug, starts_at, ends_at)
                              SELECT gen_random_uuid(), id, 'rally', 'Rally Albania 2026', 'rally-albania-2026', '2026-06-06', '2026-06-13' FROM o RETURNING id),
                        n AS (INSERT INTO entries (id, event_id, race_number) SELECT gen_random_uuid(), id, 301 FROM e RETURNING id)
                   INSERT INTO entry_crew (id, entry_id, user_id, role) SELECT gen_random_uuid(), n.id, u.id, NULL FROM n, directus_users u`);
        expect(await roleColumn()).toEqual([{ is_nullable: "YES", required: false }]);

        // A crew row without a role: Directus refuses the whole change (the boot stops), nothing of it applied.
        const apply = () => applySchema(cliOptions({ env, log: () => undefined }));
        await expect(apply()).rejects.toThrow(/Field "role" in collection "entry_crew" contains null values/);
        expect(await roleColumn()).toEqual([{ is_nullable: "YES", required: false }]);

        await sql("UPDATE entry_crew SET role = 'pilot'");
        expect(await apply()).toMatchObject({ status: "applied", plan: { update: { fields: ["entry_crew.role"] } } });
      },
    });
    try {
      expect(await roleColumn()).toEqual([{ is_nullable: "NO", required: true }]);
      expect(await sql("SELECT role FROM entry_crew")).toEqual([{ role: "pilot" }]);
      const [crew] = await sql<{ entry_id: string; user_id: string }>("SELECT entry_id, user_id FROM entry_crew");
      const { codes, message } = await rejection((await adminClient(upgraded)).request(createItem("entry_crew", { entry_id: crew.entry_id, user_id: crew.user_id })));
      expect(codes).toEqual(["FAILED_VALIDATION"]);
      expect(message).toBe('Validation failed for field "role". Value is required.');
    } finally {
      await upgraded.stop();
    }
  }, 5 * 60_000);
});
