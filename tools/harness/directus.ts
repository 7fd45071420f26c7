/**
 * A Directus 11.17.4 on a fresh PostgreSQL 16 database, set up in the image's start-up order:
 * pre-schema migrations (db-init) → bootstrap → schema apply (snapshots/schema.yaml) → post-schema
 * migrations (db-post) → start. One per test file: it takes a few seconds and ~400 MB.
 */
import path from "node:path";
import type { DbSettings } from "../../lib/db/settings";
import { connectDirectus } from "../../lib/directus-client";
import { runMigrations, type MigrationResult } from "../../lib/migrations/runner";
import { applySchema, type ApplySchemaResult } from "../../lib/schema/directus-cli";
import { startDirectus, type RunningDirectus } from "../directus-runtime/index";
import type { TestPostgres } from "./postgres";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const DB_INIT_DIR = path.join(REPO_ROOT, "db-init");
export const DB_POST_DIR = path.join(REPO_ROOT, "db-post");
export const MIGRATION_DIRS = [DB_INIT_DIR, DB_POST_DIR];
export const SCHEMA_FILE = path.join(REPO_ROOT, "snapshots", "schema.yaml");

export interface DirectusWithSchema {
  db: DbSettings;
  directus: RunningDirectus;
  /** What each start-up step did, in order. */
  startup: { preSchema: MigrationResult; schema: ApplySchemaResult; postSchema: MigrationResult; log: string[] };
  /** A fresh SDK client logged in as the admin. */
  client(): Promise<AdminClient>;
}

export type AdminClient = Awaited<ReturnType<typeof adminClient>>;

export async function startDirectusWithSchema(
  pg: TestPostgres,
  /** env: extra Directus settings (e.g. MAX_PAYLOAD_SIZE); they win over the defaults. */
  options: { beforeSchema?: (db: DbSettings) => Promise<void>; env?: Record<string, string> } = {},
): Promise<DirectusWithSchema> {
  const db = await pg.createDatabase("directus");
  const log: string[] = [];
  const record = (line: string) => void log.push(line);
  const preSchema = await runMigrations({ dirs: [DB_INIT_DIR], db, log: record });
  await options.beforeSchema?.(db);
  let schema: ApplySchemaResult | undefined;
  let postSchema: MigrationResult | undefined;
  const directus = await startDirectus({
    db,
    env: options.env,
    async afterBootstrap({ env, runtime }) {
      schema = await applySchema({
        directusDir: runtime.dir,
        nodeBin: runtime.nodeBin,
        snapshotPath: SCHEMA_FILE,
        mode: "apply",
        allowDeletions: false,
        env,
        migrationDirs: MIGRATION_DIRS,
        log: record,
      });
      postSchema = await runMigrations({ dirs: [DB_POST_DIR], db, log: record });
    },
  });
  return {
    db,
    directus,
    startup: { preSchema, schema: schema!, postSchema: postSchema!, log },
    client: () => adminClient(directus),
  };
}

export function adminClient(directus: RunningDirectus) {
  return connectDirectus(directus.url, { email: directus.adminEmail, password: directus.adminPassword });
}
