/**
 * Schema apply for when no Directus server runs yet (the container's start-up, with the image's own
 * Node): Directus's own snapshot, diff and apply, in one Directus process (lib/schema/directus-worker.ts,
 * the functions `directus schema snapshot|apply` call); the diff goes to the log first, then the apply
 * of everything that deletes or rewrites nothing (the drift, drift.ts, is held back unless deletions
 * are allowed, and logged and recorded), and a second diff confirms it. Drift never fails the step.
 * Database settings come from the environment (DB_*), exactly as Directus reads them.
 *
 * A shortcut skips loading Directus when a diff would find nothing (lib/schema/fingerprint.ts): when
 * neither the snapshot nor the database schema changed since the last comparison that found nothing
 * to do. Every other case takes the full way.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { readDbSettings, SettingsError } from "../db/settings";
import { describeDirectusDiff } from "./describe-diff";
import { driftLines, holdBackDestructive, revertedEdits, type DriftItem } from "./drift";
import { ALLOW_DELETIONS_HINT, deletionLines, describePlan, planSchemaApply, type SchemaPlan } from "./plan";
import { parseSnapshot, validateSnapshot, type Snapshot } from "./snapshot";
import { StartupState } from "./startup-state";
import { findSqlOwnedTables, stripSqlOwned } from "./strip";
import { DirectusSchemaWorker } from "./worker-client";

export { DirectusCliError, errorLines } from "./worker-client";

export type SchemaApplyMode = "apply" | "dry-run" | "skip";
export const SCHEMA_APPLY_MODES: readonly SchemaApplyMode[] = ["apply", "dry-run", "skip"];

export interface ApplySchemaOptions {
  /** Where Directus's `cli.js` is: `/directus` in the image, the runtime folder in tests. */
  directusDir: string;
  /** Node 22 (Directus's). Default: `node` from PATH. */
  nodeBin?: string;
  snapshotPath: string;
  mode: SchemaApplyMode;
  allowDeletions: boolean;
  log: (line: string) => void;
  /** Default: process.env. Must hold DB_CLIENT and the DB_* settings Directus reads. */
  env?: NodeJS.ProcessEnv;
  /** Migration folders: the tables their SQL creates are SQL-owned, never touched by the apply. */
  migrationDirs?: string[];
  /** Default 120 s per step of Directus's (loading it, snapshot, diff, apply). */
  timeoutSeconds?: number;
  /** A Directus already loaded for this database (the start-up's bootstrap): used, not closed. Default: one started when needed. */
  worker?: DirectusSchemaWorker;
}

export type ApplySchemaStatus = "skipped" | "unchanged" | "planned" | "applied";

export interface ApplySchemaResult {
  status: ApplySchemaStatus;
  /** Absent when skipped, and when the shortcut knew there was nothing to do without a snapshot. */
  plan?: SchemaPlan;
  /** What the database has that the snapshot lacks (kept), type changes held back, edits put back. Absent when skipped. */
  drift?: DriftItem[];
}

const LOG_PREFIX = "schema:";

export async function applySchema(options: ApplySchemaOptions): Promise<ApplySchemaResult> {
  const { log } = options;
  if (options.mode === "skip") {
    log(`${LOG_PREFIX} skipped (mode skip); the database schema is left as it is`);
    return { status: "skipped" };
  }
  const env = options.env ?? process.env;
  checkDatabaseEnv(env);

  const sqlOwned = await findSqlOwnedTables(options.migrationDirs ?? []);
  const name = path.basename(options.snapshotPath);
  const target = stripSqlOwned(parseSnapshot(await readFile(options.snapshotPath, "utf8"), options.snapshotPath), sqlOwned);
  if (target.stripped.collections.length > 0) log(`${LOG_PREFIX} left out of ${name}: SQL-owned ${target.stripped.collections.join(", ")}`);

  const state = new StartupState(options, env, target.snapshot, sqlOwned);
  if (await state.nothingChanged()) {
    const drift = await state.recordedDrift();
    log(`${LOG_PREFIX} no changes: the database already ${drift.length > 0 ? "has all of" : "matches"} ${name}`);
    log(`${LOG_PREFIX} (neither ${name} nor the database schema changed since the last comparison, so Directus was not asked again)`);
    logDrift(log, drift);
    return { status: "unchanged", drift };
  }
  const databaseSideChanged = await state.snapshotUnchanged();

  const worker = options.worker ?? (await DirectusSchemaWorker.start({ ...options, env, timeoutSeconds: options.timeoutSeconds ?? 120 }));
  try {
    const before = await compare(worker, target.snapshot, sqlOwned);
    const { plan } = before;
    if (!before.changes) {
      log(`${LOG_PREFIX} no changes: the database already matches ${name}`);
      await state.recordDrift([]);
      await state.record();
      return { status: "unchanged", plan, drift: [] };
    }
    for (const line of describeDirectusDiff(before.diff)) log(`${LOG_PREFIX} | ${line}`);
    for (const line of describePlan(plan)) log(`${LOG_PREFIX} ${line}`);
    const held = plan.hasDeletions && !options.allowDeletions ? holdBackDestructive(before.current, target.snapshot) : { effective: target.snapshot, drift: [] };
    const drift = [...held.drift, ...(databaseSideChanged ? revertedEdits(plan) : [])];

    if (options.mode === "dry-run") {
      for (const line of deletionLines(plan.delete)) log(`${LOG_PREFIX} WARNING: an apply would not delete ${line} unless deletions are allowed`);
      log(`${LOG_PREFIX} dry run: nothing applied`);
      logDrift(log, drift);
      await state.recordDrift(drift);
      return { status: "planned", plan, drift };
    }
    if (plan.hasDeletions && options.allowDeletions) log(`${LOG_PREFIX} deletions allowed (${ALLOW_DELETIONS_HINT}): ${deletionLines(plan.delete).join("; ")}`);
    const toApply = held.drift.length > 0 ? await worker.diff(held.effective, before.ignore) : before.diff;
    if (hasEntries(toApply)) {
      await worker.apply();
      log(`${LOG_PREFIX} applied ${name}${held.drift.length > 0 ? " except what is held back below" : ""}`);
    } else {
      log(`${LOG_PREFIX} nothing of ${name} to apply beyond what is held back below`);
    }
    logDrift(log, drift);
    await state.recordDrift(drift);

    const after = await compare(worker, held.effective, sqlOwned);
    if (after.changes) {
      log(`${LOG_PREFIX} WARNING: Directus still finds differences after the apply (the next boot compares again): ${describeDirectusDiff(after.diff).join("; ")}`);
    } else {
      await state.record();
    }
    return { status: "applied", plan, drift };
  } finally {
    if (!options.worker) await worker.close();
  }
}

function logDrift(log: (line: string) => void, drift: DriftItem[]): void {
  for (const line of driftLines(drift)) log(`${LOG_PREFIX} ${line}`);
}

interface Comparison {
  /** The database's schema, SQL-owned tables stripped. */
  current: Snapshot;
  plan: SchemaPlan;
  diff: Record<string, unknown[]>;
  /** SQL-owned tables Directus tracks, left out of its diff. */
  ignore: string[];
  changes: boolean;
}

/**
 * The current snapshot, our plan of what the target changes (the guard's input), and Directus's diff
 * of the stripped target. SQL tables that Directus tracks (someone configured one in the admin UI) are
 * excluded from its diff (the CLI's --ignoreRules), so never dropped.
 */
async function compare(worker: DirectusSchemaWorker, target: Snapshot, sqlOwned: string[]): Promise<Comparison> {
  const rawCurrent = validateSnapshot(await worker.snapshot(), "current schema");
  const current = stripSqlOwned(rawCurrent, sqlOwned);
  const plan = planSchemaApply(current.snapshot, target);
  const ignore = current.stripped.collections.filter((c) => rawCurrent.collections.some((rc) => rc.collection === c));
  const diff = await worker.diff(target, ignore);
  return { current: current.snapshot, plan, diff, ignore, changes: hasEntries(diff) };
}

function hasEntries(diff: Record<string, unknown[]>): boolean {
  return Object.values(diff).some((entries) => Array.isArray(entries) && entries.length > 0);
}

/**
 * Names every missing or wrong DB_* setting before Directus prints its own, less helpful error.
 * DB_CLIENT matters: the upstream image defaults it to sqlite3, which would "apply" to a local file.
 */
function checkDatabaseEnv(env: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  if (env.DB_CLIENT !== "pg") problems.push(`DB_CLIENT must be pg (the stack runs PostgreSQL), got ${env.DB_CLIENT ? `"${env.DB_CLIENT}"` : "nothing"}`);
  try {
    readDbSettings(env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new SettingsError(problems);
}
