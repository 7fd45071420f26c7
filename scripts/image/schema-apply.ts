/**
 * The image's schema step (bundled to schema-apply.cjs, run by startup.sh with the image's Node):
 *   node schema-apply.cjs <snapshot.yaml>
 * Directus is loaded (once, by schema-worker.cjs beside it) only when the snapshot or the database schema
 * changed since the last comparison that found nothing to do (lib/schema/fingerprint.ts).
 * Drift (what only the database has, type changes) is kept and reported, never a failure, unless
 * SCHEMA_ALLOW_DELETIONS=true lets the apply delete it (lib/schema/drift.ts).
 * Env: SCHEMA_APPLY_MODE (apply | dry-run | skip), SCHEMA_ALLOW_DELETIONS, DIRECTUS_DIR (where cli.js is),
 * DB_INIT_DIR / DB_POST_DIR (their tables are SQL-owned and never touched), and Directus's DB_* settings.
 */
import { applySchema } from "../../lib/schema/directus-cli";
import { readAllowDeletions, readApplyMode } from "../../lib/schema/settings";

async function main(): Promise<void> {
  const snapshotPath = process.argv[2];
  if (!snapshotPath) throw new Error("give the snapshot to apply, e.g. node schema-apply.cjs /directus/trm/snapshots/schema.yaml");
  const directusDir = process.env.DIRECTUS_DIR ?? "/directus";
  await applySchema({
    directusDir,
    nodeBin: process.execPath,
    snapshotPath,
    mode: readApplyMode(process.env),
    allowDeletions: readAllowDeletions(process.argv, process.env),
    migrationDirs: [process.env.DB_INIT_DIR ?? `${directusDir}/trm/db-init`, process.env.DB_POST_DIR ?? `${directusDir}/trm/db-post`],
    log: (line) => console.log(line),
  });
}

main().catch((error: Error) => {
  console.error(`schema: ERROR ${error.message}`);
  process.exitCode = (error as Error & { exitCode?: number }).exitCode ?? 1;
});
