/**
 * The image's steps 2 and 3 (bundled to directus-setup.cjs, run by startup.sh with the image's Node):
 *   node directus-setup.cjs <snapshot.yaml>
 * Bootstrap when it has work, then the schema from the snapshot, in one Directus process
 * (lib/schema/directus-setup.ts). Prints the 3/5 marker line itself; with TRM_STEP_FD set, writes each
 * step's name to that descriptor as it begins, so startup.sh names the step a failure stopped in.
 * Env: as bootstrap.cjs and schema-apply.cjs (DIRECTUS_DIR, DB_*, ADMIN_*, SCHEMA_APPLY_MODE,
 * SCHEMA_ALLOW_DELETIONS, DB_INIT_DIR, DB_POST_DIR).
 */
import { writeSync } from "node:fs";
import { bootstrapAndApplySchema, type SetupStep } from "../../lib/schema/directus-setup";
import { readAllowDeletions, readApplyMode } from "../../lib/schema/settings";

let current: SetupStep = "2/5 bootstrap";

function enterStep(step: SetupStep, snapshotPath?: string): void {
  current = step;
  if (step === "3/5 schema" && snapshotPath) {
    console.log(`[trm-startup] ==> 3/5 schema from ${snapshotPath} (SCHEMA_APPLY_MODE=${process.env.SCHEMA_APPLY_MODE ?? "apply"})`);
  }
  const fd = Number(process.env.TRM_STEP_FD);
  if (Number.isInteger(fd) && fd > 2) writeSync(fd, `${step}\n`);
}

/** The schema step's settings, read before anything runs: a bad one fails step 3 with nothing changed. */
function schemaSettings() {
  try {
    return { mode: readApplyMode(process.env), allowDeletions: readAllowDeletions(process.argv, process.env) };
  } catch (error) {
    enterStep("3/5 schema");
    throw error;
  }
}

async function main(): Promise<void> {
  const snapshotPath = process.argv[2];
  if (!snapshotPath) throw new Error("give the snapshot to apply, e.g. node directus-setup.cjs /directus/trm/snapshots/schema.yaml");
  const directusDir = process.env.DIRECTUS_DIR ?? "/directus";
  await bootstrapAndApplySchema({
    directusDir,
    nodeBin: process.execPath,
    snapshotPath,
    ...schemaSettings(),
    migrationDirs: [process.env.DB_INIT_DIR ?? `${directusDir}/trm/db-init`, process.env.DB_POST_DIR ?? `${directusDir}/trm/db-post`],
    log: (line) => console.log(line),
    enterStep: (step) => enterStep(step, snapshotPath),
  });
}

main().catch((error: Error & { exitCode?: number }) => {
  console.error(`${current === "2/5 bootstrap" ? "bootstrap" : "schema"}: ERROR ${error.message}`);
  process.exitCode = error.exitCode ?? 1;
});
