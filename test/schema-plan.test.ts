/** Pure tests of the schema tooling: stripping, planning, the destructive guard, serialisation, settings. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SettingsError } from "../lib/db/settings";
import { GUARD_TABLE_DDL } from "../lib/migrations/runner";
import { applySchema, errorLines } from "../lib/schema/directus-cli";
import { assertDeletionsAllowed, DestructiveSchemaChangeError, describePlan, planSchemaApply } from "../lib/schema/plan";
import { readAllowDeletions, readApplyMode, readDirectusConnection } from "../lib/schema/settings";
import { InvalidSnapshotError, normalizeSnapshot, parseSnapshot, serializeSnapshot, type Snapshot } from "../lib/schema/snapshot";
import { findSqlOwnedTables, MIGRATIONS_GUARD_TABLE, stripSqlOwned, tablesCreatedBy } from "../lib/schema/strip";
import { DB_INIT_DIR, MIGRATION_DIRS, SCHEMA_FILE } from "../tools/harness/directus";

const committed = () => parseSnapshot(readFileSync(SCHEMA_FILE, "utf8"), SCHEMA_FILE);

/** What Directus versions before 11.x's "untracked" filter wrote for a table it did not manage. */
function withGhostPositions(snapshot: Snapshot): Snapshot {
  const column = (field: string, type: string) => ({ collection: "positions", field, type, meta: null, schema: { name: field, table: "positions" } });
  return {
    ...snapshot,
    collections: [...snapshot.collections, { collection: "positions", meta: null, schema: { name: "positions" } }],
    fields: [...snapshot.fields, column("device_id", "text"), column("ts", "timestamp")],
    relations: [...snapshot.relations],
  };
}

function without(snapshot: Snapshot, collection: string): Snapshot {
  return {
    ...snapshot,
    collections: snapshot.collections.filter((c) => c.collection !== collection),
    fields: snapshot.fields.filter((f) => f.collection !== collection),
    relations: snapshot.relations.filter((r) => r.collection !== collection),
  };
}

describe("snapshots/schema.yaml", () => {
  const snapshot = committed();

  it("is a Directus 11.17.4 postgres snapshot of the 11 collections plus three directus_users fields", () => {
    expect(snapshot).toMatchObject({ version: 1, directus: "11.17.4", vendor: "postgres" });
    expect(snapshot.collections.map((c) => c.collection)).toEqual([
      "classes", "devices", "entries", "entry_crew", "entry_devices", "events",
      "organization_devices", "organization_users", "organization_vehicles", "organizations", "vehicles",
    ]);
    expect(snapshot.fields.filter((f) => f.collection === "directus_users").map((f) => f.field).sort()).toEqual(["birth_date", "nationality", "phone"]);
  });

  it("holds no SQL-owned table and nothing untracked", () => {
    const names = [...snapshot.collections.map((c) => c.collection), ...snapshot.fields.map((f) => f.collection)];
    expect(names).not.toContain("positions");
    expect(names).not.toContain("migrations_applied");
    expect(stripSqlOwned(snapshot, ["positions", "migrations_applied"]).stripped).toEqual({ collections: [], fields: [], relations: [] });
  });

  it("gives every collection a UUID primary key", () => {
    for (const { collection } of snapshot.collections) {
      const id = snapshot.fields.find((f) => f.collection === collection && f.field === "id");
      expect(id, collection).toMatchObject({ type: "uuid", schema: { is_primary_key: true, data_type: "uuid" }, meta: { special: ["uuid"] } });
    }
  });

  it("makes every relation ON DELETE RESTRICT except entry_devices.assigned_user_id (SET NULL)", () => {
    const onDelete = Object.fromEntries(snapshot.relations.map((r) => [`${r.collection}.${r.field}`, (r.schema as { on_delete: string }).on_delete]));
    expect(onDelete["entry_devices.assigned_user_id"]).toBe("SET NULL");
    const others = Object.entries(onDelete).filter(([key]) => key !== "entry_devices.assigned_user_id");
    expect(others).toHaveLength(15);
    for (const [key, value] of others) expect(value, key).toBe("RESTRICT");
  });

  it("has the required, unique and typed fields of spec §2", () => {
    const field = (collection: string, name: string) => snapshot.fields.find((f) => f.collection === collection && f.field === name)!;
    const required = [
      "organizations.name", "organizations.slug", "organization_users.organization_id", "organization_users.user_id",
      "vehicles.make", "vehicles.model", "organization_vehicles.organization_id", "organization_vehicles.vehicle_id",
      "devices.imei", "devices.model", "organization_devices.organization_id", "organization_devices.device_id",
      "events.organization_id", "events.name", "events.slug", "events.discipline", "events.starts_at", "events.ends_at",
      "classes.event_id", "classes.code", "classes.name", "entries.event_id", "entries.race_number",
      "entry_crew.entry_id", "entry_crew.user_id", "entry_devices.entry_id", "entry_devices.device_id",
    ];
    for (const key of required) {
      const [collection, name] = key.split(".");
      expect(field(collection, name), key).toMatchObject({ meta: { required: true }, schema: { is_nullable: false } });
    }
    expect(field("entry_devices", "assigned_user_id")).toMatchObject({ schema: { is_nullable: true } });
    expect(field("entries", "vehicle_id")).toMatchObject({ schema: { is_nullable: true } });
    expect(field("organizations", "slug").schema).toMatchObject({ is_unique: true });
    expect(field("devices", "imei").schema).toMatchObject({ is_unique: true });
    for (const key of ["events.starts_at", "events.ends_at", "organization_vehicles.registered_at", "organization_devices.registered_at", "organizations.date_created", "organizations.date_updated"]) {
      const [collection, name] = key.split(".");
      expect(field(collection, name).type, key).toBe("timestamp");
    }
    expect(field("directus_users", "birth_date").type).toBe("date");
  });

  it("lists the enumerations as dropdown choices", () => {
    const choices = (collection: string, name: string) => {
      const meta = snapshot.fields.find((f) => f.collection === collection && f.field === name)!.meta!;
      expect(meta.interface).toBe("select-dropdown");
      return (meta.options as { choices: { value: string }[] }).choices.map((c) => c.value);
    };
    expect(choices("organization_users", "role")).toEqual(["org-admin", "race-director", "marshal", "timekeeper", "participant", "viewer"]);
    expect(choices("events", "discipline")).toEqual(["rally", "time-trial", "regatta", "trail-run", "hike"]);
    expect(choices("entry_crew", "role")).toEqual(["pilot", "co-pilot", "navigator", "mechanic", "rider", "runner", "hiker"]);
    expect(choices("entries", "status")).toEqual([
      "registered", "confirmed", "scrutineered", "racing", "finished", "retired", "disqualified", "withdrawn",
    ]);
  });

  it("archives entries as withdrawn, defaults them to registered, sorts classes by sort_order", () => {
    const meta = (name: string) => snapshot.collections.find((c) => c.collection === name)!.meta!;
    expect(meta("entries")).toMatchObject({ archive_field: "status", archive_value: "withdrawn", unarchive_value: "registered" });
    expect(snapshot.fields.find((f) => f.collection === "entries" && f.field === "status")!.schema).toMatchObject({ default_value: "registered", is_nullable: false });
    expect(meta("classes")).toMatchObject({ sort_field: "sort_order" });
    expect(meta("entries").display_template).toMatch(/^#\{\{race_number\}\}/);
    for (const { collection, meta: m } of snapshot.collections) {
      expect(m?.icon, collection).toEqual(expect.any(String));
      expect(m?.display_template, collection).toEqual(expect.any(String));
      expect(m?.note, collection).toEqual(expect.any(String));
    }
  });

  it("is in canonical form: serialising it again gives the same bytes", () => {
    expect(serializeSnapshot(committed())).toBe(readFileSync(SCHEMA_FILE, "utf8"));
  });
});

describe("SQL-owned tables", () => {
  it("are found from the migration files' CREATE TABLEs plus the runner's guard table", async () => {
    expect(await findSqlOwnedTables([DB_INIT_DIR])).toEqual(["migrations_applied", "positions"]);
    expect(await findSqlOwnedTables(MIGRATION_DIRS)).toEqual(["migrations_applied", "positions"]);
    expect(GUARD_TABLE_DDL).toContain(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_GUARD_TABLE} (`);
  });

  it.each([
    ["CREATE TABLE foo (id int);", ["foo"]],
    ['create unlogged table if not exists public."Odd Name" (x int)', ["Odd Name"]],
    ["CREATE TEMP TABLE t1 AS SELECT 1; CREATE TABLE IF NOT EXISTS s.T2 (x int)", ["t1", "t2"]],
    ["-- CREATE TABLE commented (x int)\n/* CREATE TABLE also_not (x int) */ ALTER TABLE x ADD y int", []],
  ])("tablesCreatedBy(%j)", (sql, tables) => {
    expect(tablesCreatedBy(sql)).toEqual(tables);
  });

  it("untracked (meta: null) collections are stripped with their fields and relations, without a list", () => {
    const ghost = withGhostPositions(committed());
    ghost.relations.push({ collection: "entries", field: "legacy", related_collection: "positions", meta: null, schema: null });
    const { snapshot, stripped } = stripSqlOwned(ghost);
    expect(stripped).toEqual({ collections: ["positions"], fields: ["positions.device_id", "positions.ts"], relations: ["entries.legacy"] });
    expect(snapshot).toEqual(committed());
  });

  it("a SQL table that Directus tracks is stripped when its name comes from the migrations", () => {
    const tracked = committed();
    tracked.collections.push({ collection: "migrations_applied", meta: { collection: "migrations_applied", note: "configured in the admin UI" }, schema: { name: "migrations_applied" } });
    expect(stripSqlOwned(tracked).stripped.collections).toEqual([]);
    expect(stripSqlOwned(tracked, ["migrations_applied", "positions"]).stripped.collections).toEqual(["migrations_applied"]);
  });
});

describe("planSchemaApply", () => {
  it("reports no changes for identical snapshots, whatever their order", () => {
    const shuffled = { ...committed(), fields: [...committed().fields].reverse(), relations: [...committed().relations].reverse() };
    const plan = planSchemaApply(committed(), shuffled);
    expect(plan).toMatchObject({ hasChanges: false, hasDeletions: false });
    expect(describePlan(plan)).toEqual(["no changes"]);
  });

  it("plans creating everything on an empty instance, deleting nothing", () => {
    const empty: Snapshot = { version: 1, directus: "11.17.4", vendor: "postgres", collections: [], fields: [], systemFields: [], relations: [] };
    const plan = planSchemaApply(empty, committed());
    expect(plan.create.collections).toHaveLength(11);
    expect(plan.create.relations).toContain("entry_devices.assigned_user_id → directus_users");
    expect(plan.create.fields).toContain("directus_users.nationality");
    expect(plan).toMatchObject({ hasChanges: true, hasDeletions: false });
  });

  it("lists a collection missing from the target once, not its fields and relations", () => {
    const current = committed();
    current.collections.push({ collection: "scratch", meta: { icon: "box" }, schema: { name: "scratch" } });
    current.fields.push({ collection: "scratch", field: "id", type: "uuid", meta: { sort: 1 }, schema: { is_primary_key: true } });
    current.relations.push({ collection: "scratch", field: "event_id", related_collection: "events", meta: {}, schema: {} });
    const plan = planSchemaApply(current, committed());
    expect(plan.delete).toEqual({ collections: ["scratch"], fields: [], relations: [] });
    expect(plan.hasDeletions).toBe(true);
  });

  it("lists deleted fields and relations of surviving collections", () => {
    const target = committed();
    target.fields = target.fields.filter((f) => !(f.collection === "entry_devices" && f.field === "assigned_user_id") && !(f.collection === "directus_users" && f.field === "phone"));
    target.relations = target.relations.filter((r) => !(r.collection === "entry_devices" && r.field === "assigned_user_id"));
    const plan = planSchemaApply(committed(), target);
    expect(plan.delete).toEqual({
      collections: [],
      fields: ["directus_users.phone", "entry_devices.assigned_user_id"],
      relations: ["entry_devices.assigned_user_id → directus_users"],
    });
  });

  it("counts a field turned into an alias as a deletion (Directus drops and re-creates it)", () => {
    const target = committed();
    const notes = target.fields.find((f) => f.collection === "events" && f.field === "notes")!;
    Object.assign(notes, { type: "alias", schema: null });
    const plan = planSchemaApply(committed(), target);
    expect(plan.delete.fields).toEqual(["events.notes"]);
    expect(plan.create.fields).toEqual(["events.notes"]);
  });

  it("sees updates of meta and schema, which delete nothing", () => {
    const target = committed();
    target.collections.find((c) => c.collection === "entries")!.meta!.icon = "flag";
    (target.fields.find((f) => f.collection === "vehicles" && f.field === "vin")!.schema as Record<string, unknown>).max_length = 17;
    const plan = planSchemaApply(committed(), target);
    expect(plan.update.collections).toEqual(["entries"]);
    expect(plan.update.fields).toEqual(["vehicles.vin"]);
    expect(plan).toMatchObject({ hasChanges: true, hasDeletions: false });
  });

  it("never counts SQL-owned tables: neither a ghost in the target nor a tracked table in the current state", () => {
    const current = committed();
    current.collections.push({ collection: "migrations_applied", meta: { note: "configured in the admin UI" }, schema: { name: "migrations_applied" } });
    const target = withGhostPositions(committed());
    expect(planSchemaApply(current, target).delete.collections).toEqual(["migrations_applied"]);
    const plan = planSchemaApply(current, target, { sqlOwnedTables: ["positions", "migrations_applied"] });
    expect(plan).toMatchObject({ hasChanges: false, hasDeletions: false });
  });
});

describe("the destructive guard", () => {
  const deleting = () => {
    const current = committed();
    current.collections.push({ collection: "scratch", meta: { icon: "box" }, schema: { name: "scratch" } });
    const target = without(committed(), "entry_crew");
    target.fields = target.fields.filter((f) => !(f.collection === "entries" && f.field === "crew") && !(f.collection === "vehicles" && f.field === "vin"));
    return planSchemaApply(current, target);
  };

  it("refuses, listing every deletion, and says how to allow them", () => {
    const error = (() => {
      try {
        assertDeletionsAllowed(deleting(), false);
      } catch (e) {
        return e as DestructiveSchemaChangeError;
      }
    })();
    expect(error).toBeInstanceOf(DestructiveSchemaChangeError);
    expect(error!.exitCode).toBe(5);
    expect(error!.message).toContain("it would delete 2 collections, 2 fields:");
    for (const line of ["collection entry_crew", "collection scratch", "field entries.crew", "field vehicles.vin"]) expect(error!.message).toContain(`  - ${line}`);
    expect(error!.message).toContain("--allow-deletions (or SCHEMA_ALLOW_DELETIONS=true)");
  });

  it("lets deletions through when allowed, and plans without deletions through anyway", () => {
    expect(() => assertDeletionsAllowed(deleting(), true)).not.toThrow();
    expect(() => assertDeletionsAllowed(planSchemaApply(committed(), committed()), false)).not.toThrow();
  });
});

describe("snapshot files", () => {
  it("normalise to one order and one key order", () => {
    const snapshot = committed();
    const scrambled = {
      ...snapshot,
      collections: [...snapshot.collections].reverse().map((c) => Object.fromEntries(Object.entries(c).reverse()) as typeof c),
      fields: [...snapshot.fields].reverse(),
    };
    expect(serializeSnapshot(scrambled)).toBe(serializeSnapshot(snapshot));
    expect(normalizeSnapshot(scrambled).fields.filter((f) => f.collection === "entries").map((f) => f.field)).toEqual([
      "id", "event_id", "race_number", "class_id", "status", "vehicle_id", "crew", "devices", "date_created", "date_updated",
    ]);
  });

  it("parse from JSON as well as YAML, and reject what is not a snapshot", () => {
    expect(parseSnapshot(JSON.stringify(committed()))).toEqual(committed());
    expect(() => parseSnapshot("version: 1\ncollections: {}\n", "broken.yaml")).toThrow(InvalidSnapshotError);
    expect(() => parseSnapshot("version: 1\ncollections: {}\n", "broken.yaml")).toThrow(/broken\.yaml is not a Directus schema snapshot:\n- directus: /);
  });
});

describe("settings", () => {
  it("name the missing variables", () => {
    expect(() => readDirectusConnection({})).toThrow(SettingsError);
    expect(() => readDirectusConnection({})).toThrow(/DIRECTUS_URL[\s\S]*DIRECTUS_TOKEN .*, or DIRECTUS_ADMIN_EMAIL, DIRECTUS_ADMIN_PASSWORD/);
    expect(() => readDirectusConnection({ DIRECTUS_URL: "http://x", DIRECTUS_ADMIN_EMAIL: "a@b.c" })).toThrow(/set DIRECTUS_TOKEN .*, or DIRECTUS_ADMIN_PASSWORD$/);
    expect(readDirectusConnection({ DIRECTUS_URL: "http://x:8055/", DIRECTUS_TOKEN: "t" })).toEqual({ url: "http://x:8055", token: "t" });
  });

  it("read the deletion switch from the flag or SCHEMA_ALLOW_DELETIONS, and the mode from SCHEMA_APPLY_MODE", () => {
    expect(readAllowDeletions([], {})).toBe(false);
    expect(readAllowDeletions(["--allow-deletions"], {})).toBe(true);
    expect(readAllowDeletions([], { SCHEMA_ALLOW_DELETIONS: "true" })).toBe(true);
    expect(() => readAllowDeletions([], { SCHEMA_ALLOW_DELETIONS: "yes please" })).toThrow(/SCHEMA_ALLOW_DELETIONS must be true or false/);
    expect(readApplyMode({})).toBe("apply");
    expect(readApplyMode({ SCHEMA_APPLY_MODE: "dry-run" })).toBe("dry-run");
    expect(() => readApplyMode({ SCHEMA_APPLY_MODE: "yolo" })).toThrow(/SCHEMA_APPLY_MODE must be one of apply, dry-run, skip/);
  });
});

describe("applySchema (Directus CLI adapter) settings", () => {
  it("names every missing or wrong DB_* setting before running anything", async () => {
    const attempt = applySchema({
      directusDir: "/nonexistent", snapshotPath: SCHEMA_FILE, mode: "apply", allowDeletions: false, log: () => undefined,
      env: { DB_CLIENT: "sqlite3", DB_HOST: "db" },
    });
    await expect(attempt).rejects.toThrow(SettingsError);
    await expect(attempt).rejects.toThrow(/DB_CLIENT must be pg .*got "sqlite3"[\s\S]*missing settings: DB_PORT, DB_DATABASE, DB_USER, DB_PASSWORD/);
  });

  it("does nothing at all in skip mode", async () => {
    const log: string[] = [];
    const result = await applySchema({ directusDir: "/nonexistent", snapshotPath: "/nonexistent.yaml", mode: "skip", allowDeletions: false, log: (l) => log.push(l), env: {} });
    expect(result).toEqual({ status: "skipped" });
    expect(log).toEqual(["schema: skipped (mode skip); the database schema is left as it is"]);
  });
});

describe("Directus CLI output", () => {
  it("counts error log lines and crashes as failures, even with exit code 0", () => {
    expect(errorLines("[12:00:00.000] INFO: No changes to apply.")).toEqual([]);
    expect(errorLines(`[12:00:00.000] ERROR: Directus isn't installed on this database. Please run "directus bootstrap" first.`)).toHaveLength(1);
    expect(errorLines('{"level":50,"msg":"Failed to create collection \\"positions\\""}')).toHaveLength(1);
    expect(errorLines("KnexTimeoutError: Knex: Timeout acquiring a connection")).toHaveLength(1);
    expect(errorLines("  - Set meta.note to Error: shown to editors")).toEqual([]);
  });
});
