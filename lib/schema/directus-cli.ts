/**
 * Schema apply for when no Directus server runs yet (the container's start-up, with the image's own
 * Node): Directus's own snapshot, diff and apply, in one Directus process (lib/schema/directus-worker.ts,
 * the functions `directus schema snapshot|apply` call); the diff goes to the log first, the apply runs
 * only when the guard allows it, and a second diff confirms it.
 * Database settings come from the environment (DB_*), exactly as Directus reads them.
 *
 * A shortcut skips loading Directus when a diff would find nothing (lib/schema/fingerprint.ts): when
 * neither the snapshot nor the database schema changed since the last comparison that found nothing
 * to do. Every other case takes the full way.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { newClient } from "../db/client";
import { readDbSettings, SettingsError } from "../db/settings";
import { describeDirectusDiff } from "./describe-diff";
import { directusVersions, shortcutBlockers } from "./directus-env";
import { readSchemaFingerprint, recordState, targetKey, unchangedSinceRecorded } from "./fingerprint";
import { ALLOW_DELETIONS_HINT, assertDeletionsAllowed, deletionLines, describePlan, planSchemaApply, type SchemaPlan } from "./plan";
import { parseSnapshot, validateSnapshot, type Snapshot } from "./snapshot";
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
}

export type ApplySchemaStatus = "skipped" | "unchanged" | "planned" | "applied";

export interface ApplySchemaResult {
  status: ApplySchemaStatus;
  /** Absent when skipped, and when the shortcut knew there was nothing to do without a snapshot. */
  plan?: SchemaPlan;
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

  const shortcut = new Shortcut(options, env, target.snapshot, sqlOwned);
  if (await shortcut.nothingChanged()) {
    log(`${LOG_PREFIX} no changes: the database already matches ${name}`);
    log(`${LOG_PREFIX} (neither ${name} nor the database schema changed since the last comparison, so Directus was not asked again)`);
    return { status: "unchanged" };
  }

  const worker = await DirectusSchemaWorker.start({ ...options, env, timeoutSeconds: options.timeoutSeconds ?? 120 });
  try {
    const before = await compare(worker, target.snapshot, sqlOwned);
    const { plan } = before;
    if (!before.changes) {
      log(`${LOG_PREFIX} no changes: the database already matches ${name}`);
      await shortcut.record();
      return { status: "unchanged", plan };
    }
    for (const line of describeDirectusDiff(before.diff)) log(`${LOG_PREFIX} | ${line}`);
    for (const line of describePlan(plan)) log(`${LOG_PREFIX} ${line}`);

    if (options.mode === "dry-run") {
      if (plan.hasDeletions && !options.allowDeletions) {
        for (const line of deletionLines(plan.delete)) log(`${LOG_PREFIX} WARNING: an apply would be refused: it deletes ${line}`);
      }
      log(`${LOG_PREFIX} dry run: nothing applied`);
      return { status: "planned", plan };
    }
    assertDeletionsAllowed(plan, options.allowDeletions);
    if (plan.hasDeletions) log(`${LOG_PREFIX} deletions allowed (${ALLOW_DELETIONS_HINT}): ${deletionLines(plan.delete).join("; ")}`);
    await worker.apply();
    log(`${LOG_PREFIX} applied ${name}`);

    const after = await compare(worker, target.snapshot, sqlOwned);
    if (after.changes) {
      log(`${LOG_PREFIX} WARNING: Directus still finds differences after the apply (the next boot compares again): ${describeDirectusDiff(after.diff).join("; ")}`);
    } else {
      await shortcut.record();
    }
    return { status: "applied", plan };
  } finally {
    await worker.close();
  }
}

interface Comparison {
  plan: SchemaPlan;
  diff: Record<string, unknown[]>;
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
  const changes = Object.values(diff).some((entries) => Array.isArray(entries) && entries.length > 0);
  return { plan, diff, changes };
}

/** The fingerprint shortcut for one apply; it never fails the step (anything unexpected: no shortcut). */
class Shortcut {
  private key?: string;

  constructor(
    private readonly options: ApplySchemaOptions,
    private readonly env: NodeJS.ProcessEnv,
    target: Snapshot,
    sqlOwned: string[],
  ) {
    const blockers = shortcutBlockers(env, options.directusDir);
    if (blockers.length > 0) {
      this.note(`comparing with Directus every boot: ${blockers.join("; ")}`);
      return;
    }
    try {
      this.key = targetKey({ target, sqlOwnedTables: sqlOwned, directusVersions: directusVersions(options.directusDir), env });
    } catch (error) {
      this.note(`no shortcut: ${(error as Error).message}`);
    }
  }

  async nothingChanged(): Promise<boolean> {
    const key = this.key;
    if (key === undefined) return false;
    return (await this.withClient((client) => unchangedSinceRecorded(client, key))) ?? false;
  }

  /** After a comparison that found nothing to do: what it was made with. */
  async record(): Promise<void> {
    const key = this.key;
    if (key === undefined) return;
    await this.withClient(async (client) => {
      const fingerprint = await readSchemaFingerprint(client);
      if (fingerprint !== null) await recordState(client, { targetKey: key, fingerprint });
    });
  }

  private async withClient<T>(use: (client: ReturnType<typeof newClient>) => Promise<T>): Promise<T | undefined> {
    const client = newClient(readDbSettings(this.env), "trm-schema-shortcut");
    try {
      await client.connect();
      return await use(client);
    } catch (error) {
      this.note(`no shortcut this time: ${(error as Error).message}`);
      return undefined;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private note(line: string): void {
    this.options.log(`${LOG_PREFIX} (${line})`);
  }
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
