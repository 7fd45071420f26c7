/**
 * The start-up's two shortcuts on a real PostgreSQL 16, without Directus (the start-up suite runs them
 * with it): the schema fingerprint and its recorded state (lib/schema/fingerprint.ts), and the check
 * that lets the bootstrap step stand aside (lib/schema/directus-install.ts).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newClient } from "../lib/db/client";
import { dbEnv, type DbSettings } from "../lib/db/settings";
import { bootstrapIfNeeded, missingMigrations, shippedMigrationVersions, whyBootstrap } from "../lib/schema/directus-install";
import { readRecordedState, readSchemaFingerprint, recordState, targetKey, unchangedSinceRecorded } from "../lib/schema/fingerprint";
import { parseSnapshot } from "../lib/schema/snapshot";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

async function connected(db: DbSettings): Promise<Client> {
  const client = newClient(db);
  await client.connect();
  return client;
}

/** Directus's three tables (their real columns do not matter to the fingerprint: it reads whole rows) and two collections. */
const DIRECTUS_LIKE = `
  CREATE TABLE directus_collections (collection varchar(64) PRIMARY KEY, icon varchar(64), note text);
  CREATE TABLE directus_fields (id serial PRIMARY KEY, collection varchar(64) NOT NULL, field varchar(64) NOT NULL, interface varchar(64), required boolean DEFAULT false);
  CREATE TABLE directus_relations (id serial PRIMARY KEY, many_collection varchar(64), many_field varchar(64), one_collection varchar(64), one_deselect_action varchar(255) DEFAULT 'nullify');
  CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL, slug text UNIQUE);
  CREATE TABLE events (id uuid PRIMARY KEY, organization_id uuid REFERENCES organizations (id) ON DELETE RESTRICT, slug text, starts_at timestamptz);
  INSERT INTO directus_collections VALUES ('organizations', 'business', null), ('events', 'flag', null);
  INSERT INTO directus_fields (collection, field, interface) VALUES
    ('organizations', 'id', 'input'), ('organizations', 'name', 'input'), ('organizations', 'slug', 'input'),
    ('events', 'id', 'input'), ('events', 'organization_id', 'select-dropdown-m2o'), ('events', 'slug', 'input'), ('events', 'starts_at', 'datetime');
  INSERT INTO directus_relations (many_collection, many_field, one_collection) VALUES ('events', 'organization_id', 'organizations');
`;

describe("the schema fingerprint", () => {
  let db: DbSettings;
  let client: Client;
  let baseline: string;

  beforeAll(async () => {
    db = await pg.createDatabase("fingerprint");
    client = await connected(db);
    expect(await readSchemaFingerprint(client)).toBeNull(); // no Directus yet
    await client.query(DIRECTUS_LIKE);
    baseline = (await readSchemaFingerprint(client))!;
  });
  afterAll(async () => {
    await client?.end();
  });

  /** The fingerprint with `sql` applied, in a transaction rolled back afterwards. */
  async function fingerprintAfter(sql: string): Promise<string | null> {
    await client.query("BEGIN");
    try {
      await client.query(sql);
      return await readSchemaFingerprint(client);
    } finally {
      await client.query("ROLLBACK");
    }
  }

  it("is stable, and blind to data and to what Directus's snapshot cannot see", async () => {
    expect(baseline).toMatch(/^[0-9a-f]{64}$/);
    expect(await readSchemaFingerprint(client)).toBe(baseline);
    for (const invisible of [
      "INSERT INTO organizations VALUES (gen_random_uuid(), 'Motorsport Club Albania', 'msc-albania')",
      // the composite uniques of db-post/: the inspector reads single-column constraints only
      "ALTER TABLE events ADD CONSTRAINT events_organization_id_slug_unique UNIQUE (organization_id, slug)",
      "CREATE INDEX events_org_starts ON events (organization_id, starts_at)",
      "CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.t (id int PRIMARY KEY)",
    ]) {
      expect(await fingerprintAfter(invisible), invisible).toBe(baseline);
    }
  });

  it("changes with every admin-UI-like change: a field added or removed, a relation edited, a column's properties", async () => {
    const changes = {
      "field added (column + row)": "ALTER TABLE organizations ADD COLUMN website varchar(255); INSERT INTO directus_fields (collection, field) VALUES ('organizations', 'website')",
      "field removed (column + row)": "ALTER TABLE events DROP COLUMN starts_at; DELETE FROM directus_fields WHERE field = 'starts_at'",
      "field row only": "INSERT INTO directus_fields (collection, field) VALUES ('organizations', 'alias_only')",
      "field meta edited": "UPDATE directus_fields SET required = true WHERE field = 'slug' AND collection = 'events'",
      "relation row edited": "UPDATE directus_relations SET one_deselect_action = 'delete'",
      "relation's foreign key ON DELETE": "ALTER TABLE events DROP CONSTRAINT events_organization_id_fkey, ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE",
      "collection meta edited": "UPDATE directus_collections SET note = 'hand-made' WHERE collection = 'events'",
      "column type": "ALTER TABLE events ALTER COLUMN slug TYPE varchar(32)",
      "NOT NULL": "ALTER TABLE events ALTER COLUMN slug SET NOT NULL",
      "default": "ALTER TABLE events ALTER COLUMN starts_at SET DEFAULT now()",
      "single-column unique": "ALTER TABLE events ADD CONSTRAINT events_slug_unique UNIQUE (slug)",
      "single-column index": "CREATE INDEX events_slug_index ON events (slug)",
      "new table": "CREATE TABLE scratch_notes (id uuid PRIMARY KEY)",
    };
    for (const [what, sql] of Object.entries(changes)) {
      expect(await fingerprintAfter(sql), what).not.toBe(baseline);
    }
    expect(await readSchemaFingerprint(client)).toBe(baseline); // every change above was rolled back
  });

  it("is recorded in one row outside `public`, and matches only the same key and the same schema", async () => {
    expect(await readRecordedState(client)).toBeNull();
    await recordState(client, { targetKey: "key-1", fingerprint: baseline });
    await recordState(client, { targetKey: "key-2", fingerprint: baseline });
    expect(await readRecordedState(client)).toEqual({ targetKey: "key-2", fingerprint: baseline });
    expect((await client.query("SELECT count(*)::int AS n FROM trm_startup.schema_state")).rows[0].n).toBe(1);
    expect(await readSchemaFingerprint(client)).toBe(baseline); // our own table is not part of it

    expect(await unchangedSinceRecorded(client, "key-2")).toBe(true);
    expect(await unchangedSinceRecorded(client, "key-1")).toBe(false);
    await client.query("ALTER TABLE organizations ADD COLUMN website varchar(255)");
    expect(await unchangedSinceRecorded(client, "key-2")).toBe(false);
  });
});

describe("the target key", () => {
  const snapshot = parseSnapshot("version: 1\ndirectus: 11.17.4\ncollections: []\nfields: []\nrelations: []\n");
  const base = { target: snapshot, sqlOwnedTables: ["positions", "migrations_applied"], directusVersions: "directus 11.17.4, @directus/api 35.2.0", env: {} };

  it("is the same for the same inputs and differs when any of them differs", () => {
    expect(targetKey(base)).toBe(targetKey({ ...base, sqlOwnedTables: ["migrations_applied", "positions"] }));
    const variants = [
      { ...base, target: { ...snapshot, collections: [{ collection: "events", meta: {}, schema: { name: "events" } }] } },
      { ...base, sqlOwnedTables: ["positions"] },
      { ...base, directusVersions: "directus 11.18.0, @directus/api 36.0.0" },
      { ...base, env: { DB_EXCLUDE_TABLES: "spatial_ref_sys" } },
    ];
    for (const variant of variants) expect(targetKey(variant)).not.toBe(targetKey(base));
  });
});

describe("whether bootstrap has anything to do", () => {
  /** A Directus folder as the check sees it: cli.js, @directus/api with two migrations, directus. */
  function fakeDirectus(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "trm-fake-directus-"));
    writeFileSync(path.join(dir, "cli.js"), "");
    const api = path.join(dir, "node_modules", "@directus", "api");
    mkdirSync(path.join(api, "dist", "database", "migrations"), { recursive: true });
    writeFileSync(path.join(api, "package.json"), JSON.stringify({ name: "@directus/api", version: "35.2.0" }));
    for (const file of ["20201028A-remove-collection-foreign-keys.js", "20201029A-remove-system-relations.js", "run.js", "run.d.ts"]) {
      writeFileSync(path.join(api, "dist", "database", "migrations", file), "");
    }
    mkdirSync(path.join(dir, "node_modules", "directus"), { recursive: true });
    writeFileSync(path.join(dir, "node_modules", "directus", "package.json"), JSON.stringify({ name: "directus", version: "11.17.4" }));
    return dir;
  }

  let db: DbSettings;
  let client: Client;
  const directusDir = fakeDirectus();
  const env = () => ({ DB_CLIENT: "pg", ...dbEnv(db) });

  beforeAll(async () => {
    db = await pg.createDatabase("bootstrap_check");
    client = await connected(db);
  });
  afterAll(async () => {
    await client?.end();
  });

  it("lists the migration versions bootstrap would consider: @directus/api's, and MIGRATIONS_PATH's", async () => {
    expect(await shippedMigrationVersions(directusDir, {})).toEqual(["20201028A", "20201029A"]);
    const custom = path.join(directusDir, "my-migrations");
    mkdirSync(custom);
    for (const file of ["20990101A-add-something.js", "20990102A-more.mjs", "README.md", "nodash.js"]) writeFileSync(path.join(custom, file), "");
    expect(await shippedMigrationVersions(directusDir, { MIGRATIONS_PATH: "./my-migrations" })).toEqual(["20201028A", "20201029A", "20990101A", "20990102A"]);
  });

  it("runs bootstrap until Directus is installed with every migration applied, then stands aside", async () => {
    expect(await whyBootstrap(directusDir, env())).toBe("Directus is not installed on this database");
    await client.query("CREATE TABLE directus_collections (collection varchar(64) PRIMARY KEY)");
    await client.query("CREATE TABLE directus_migrations (version varchar(255) PRIMARY KEY, name varchar(255), timestamp timestamptz DEFAULT now())");
    await client.query("INSERT INTO directus_migrations (version) VALUES ('20201028A')");
    expect(await missingMigrations(client, ["20201028A", "20201029A"])).toEqual(["20201029A"]);
    expect(await whyBootstrap(directusDir, env())).toBe("1 of its migrations are not applied, e.g. 20201029A");

    await client.query("INSERT INTO directus_migrations (version) VALUES ('20201029A')");
    expect(await whyBootstrap(directusDir, env())).toBeNull();
    // A version the image ships but the database lacks (an upgrade): bootstrap again.
    expect(await whyBootstrap(directusDir, { ...env(), MIGRATIONS_PATH: "./my-migrations" })).toMatch(/^2 of its migrations are not applied, e.g. 20990101A$/);

    const log: string[] = [];
    // Nothing to do: Directus is not even started (this node binary does not exist).
    expect(await bootstrapIfNeeded({ directusDir, nodeBin: "/nonexistent/node", env: env(), log: (l) => log.push(l) })).toBe("skipped");
    expect(log).toEqual(["bootstrap: skipped: Directus is installed and every migration it ships is applied"]);
  });

  it("runs bootstrap whenever it cannot see what Directus sees", async () => {
    expect(await whyBootstrap(directusDir, { ...env(), DB_CLIENT: "sqlite3" })).toBe('DB_CLIENT is "sqlite3", not pg');
    expect(await whyBootstrap(directusDir, { ...env(), DB_SEARCH_PATH: "other" })).toBe("DB_SEARCH_PATH is set");
    expect(await whyBootstrap(directusDir, { ...env(), DB_PORT: "1" })).toMatch(/^could not check: /);
    writeFileSync(path.join(directusDir, ".env"), "DB_DATABASE=elsewhere\n");
    expect(await whyBootstrap(directusDir, env())).toBe(`Directus reads settings from ${path.join(directusDir, ".env")}`);
  });
});
