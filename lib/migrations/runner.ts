import type pg from "pg";
import type { NoticeMessage } from "pg-protocol/dist/messages";
import { withAdvisoryLock, withClient, withTransaction, type SqlSession } from "../db/client";
import type { DbSettings } from "../db/settings";
import { MigrationSqlError } from "./errors";
import { readMigrationFiles, type MigrationFile } from "./files";
import { planMigrations, type MigrationPlan } from "./plan";

/** Shared with every runner that ever touched these databases, including the old bash one: keep its shape. */
export const GUARD_TABLE_DDL = `CREATE TABLE IF NOT EXISTS migrations_applied (
  filename   text        PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now(),
  checksum   text        NOT NULL
)`;

/** Arbitrary but fixed: every runner (Pulumi, container start-up, CLI) takes turns on it. */
export const MIGRATION_LOCK_KEY = 7_212_026_001;

export const DEFAULT_TIMEOUT_SECONDS = 60;

export interface MigrationOptions {
  /** Folders of NNN_name.sql files; filenames must be unique across all of them. */
  dirs: string[];
  db: DbSettings;
  /** How long to wait for the database to accept connections. */
  timeoutSeconds?: number;
  log?: (line: string) => void;
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

/** Lists pending files and checksum problems without changing anything (used by `pulumi preview`). */
export async function inspectMigrations(options: MigrationOptions): Promise<MigrationPlan> {
  const files = await readMigrationFiles(options.dirs);
  return withClient(options.db, options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, async (client) =>
    planMigrations(files, await readRecordedChecksums(client)),
  );
}

/** filename → checksum of every row of the guard table (empty when it does not exist yet). */
export async function readAppliedMigrations(db: DbSettings, timeoutSeconds = DEFAULT_TIMEOUT_SECONDS): Promise<Map<string, string>> {
  return withClient(db, timeoutSeconds, readRecordedChecksums);
}

/** Applies pending migrations, each file and its guard row in one transaction, under an advisory lock. */
export async function runMigrations(options: MigrationOptions): Promise<MigrationResult> {
  const log = options.log ?? (() => undefined);
  const files = await readMigrationFiles(options.dirs);
  return withClient(options.db, options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, (client) =>
    withAdvisoryLock(client, MIGRATION_LOCK_KEY, () => withNoticesLogged(client, log, () => applyMigrations(client, files, log))),
  );
}

/**
 * The runner's core on any SQL session (a pg client, or PGlite in the TimescaleDB tests):
 * create the guard table, plan, apply each pending file with its guard row in one transaction.
 */
export async function applyMigrations(
  session: SqlSession,
  files: MigrationFile[],
  log: (line: string) => void,
): Promise<MigrationResult> {
  await session.query(GUARD_TABLE_DDL);
  const plan = planMigrations(files, await readRecordedChecksums(session));
  for (const file of plan.applied) log(`db-init: skip  ${file.filename}`);
  for (const file of plan.pending) await applyFile(session, file, log);
  const result = { applied: plan.pending.map((f) => f.filename), skipped: plan.applied.map((f) => f.filename) };
  log(`db-init complete: ${result.applied.length} applied, ${result.skipped.length} skipped`);
  return result;
}

async function withNoticesLogged<T>(client: pg.Client, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const onNotice = (notice: NoticeMessage) => log(`db-init:       ${notice.severity ?? "NOTICE"}: ${notice.message}`);
  client.on("notice", onNotice);
  try {
    return await fn();
  } finally {
    client.off("notice", onNotice);
  }
}

async function readRecordedChecksums(client: SqlSession): Promise<Map<string, string>> {
  const { rows: exists } = await client.query<{ table: string | null }>(
    "SELECT to_regclass('migrations_applied')::text AS table",
  );
  if (!exists[0].table) return new Map();
  const { rows } = await client.query<{ filename: string; checksum: string }>(
    "SELECT filename, checksum FROM migrations_applied",
  );
  return new Map(rows.map((r) => [r.filename, r.checksum]));
}

async function applyFile(client: SqlSession, file: MigrationFile, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  try {
    await withTransaction(client, async () => {
      await client.query(file.sql);
      await client.query("INSERT INTO migrations_applied (filename, checksum) VALUES ($1, $2)", [
        file.filename,
        file.checksum,
      ]);
    });
  } catch (error) {
    throw toMigrationError(file, error);
  }
  log(`db-init: apply ${file.filename} (${Date.now() - started} ms)`);
}

/** SQL errors carry file:line:column; a lost connection is passed on as it is (nothing was committed). */
function toMigrationError(file: MigrationFile, error: unknown): Error {
  const pgError = error as { code?: string; position?: string; message?: string };
  const connectionLost = !pgError.code || pgError.code.startsWith("08") || pgError.code.startsWith("57P");
  if (connectionLost) {
    return new Error(`lost the database connection while applying ${file.filename} (${pgError.message}); ` +
      `nothing of it was recorded: run again`);
  }
  const { line, column } = pgError.position ? lineAndColumn(file.sql, Number(pgError.position)) : {};
  return new MigrationSqlError(file.filename, `${pgError.message} (SQLSTATE ${pgError.code})`, line, column);
}

/** PostgreSQL reports a 1-based character offset into the query text. */
export function lineAndColumn(sql: string, position: number): { line: number; column: number } {
  const before = [...sql].slice(0, position - 1).join("");
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}
