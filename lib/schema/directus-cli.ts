/**
 * Schema apply through the Directus CLI, for when no server runs yet (the container's start-up, with the
 * image's own Node): `node cli.js schema snapshot` for the current state, `schema apply --dry-run` for the
 * diff (printed to the log), `schema apply --yes` only when the guard allows it.
 * Database settings come from the environment (DB_*), exactly as Directus reads them.
 *
 * The CLI is not trustworthy about failure: `schema apply` on a database without Directus tables logs
 * an error and exits 0. Every call's output is scanned for errors, and success must be stated.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readDbSettings, SettingsError } from "../db/settings";
import { ALLOW_DELETIONS_HINT, assertDeletionsAllowed, deletionLines, describePlan, planSchemaApply, type SchemaPlan } from "./plan";
import { parseSnapshot, validateSnapshot } from "./snapshot";
import { findSqlOwnedTables, stripSqlOwned } from "./strip";

export type SchemaApplyMode = "apply" | "dry-run" | "skip";
export const SCHEMA_APPLY_MODES: readonly SchemaApplyMode[] = ["apply", "dry-run", "skip"];

export interface ApplySchemaOptions {
  /** Where Directus's `cli.js` is: `/directus` in the image, the runtime folder in tests. */
  directusDir: string;
  /** Default: `node` from PATH. */
  nodeBin?: string;
  snapshotPath: string;
  mode: SchemaApplyMode;
  allowDeletions: boolean;
  log: (line: string) => void;
  /** Default: process.env. Must hold DB_CLIENT and the DB_* settings Directus reads. */
  env?: NodeJS.ProcessEnv;
  /** Migration folders: the tables their SQL creates are SQL-owned, never touched by the apply. */
  migrationDirs?: string[];
  /** Default 120 s per CLI call. */
  timeoutSeconds?: number;
}

export type ApplySchemaStatus = "skipped" | "unchanged" | "planned" | "applied";

export interface ApplySchemaResult {
  status: ApplySchemaStatus;
  /** Absent when skipped. */
  plan?: SchemaPlan;
}

export class DirectusCliError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly command: string,
    readonly output: string,
    reason: string,
  ) {
    super(`\`directus ${command}\` failed: ${reason}\n${indent(tail(output.trim(), 60) || "(no output)")}`);
    this.name = "DirectusCliError";
  }
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
  const target = stripSqlOwned(parseSnapshot(await readFile(options.snapshotPath, "utf8"), options.snapshotPath), sqlOwned);
  if (target.stripped.collections.length > 0) {
    log(`${LOG_PREFIX} left out of ${path.basename(options.snapshotPath)}: SQL-owned ${target.stripped.collections.join(", ")}`);
  }

  const work = await mkdtemp(path.join(os.tmpdir(), "trm-schema-"));
  try {
    const cli = (args: string[]) => runDirectusCli(options, env, args);

    const currentPath = path.join(work, "current.json");
    await cli(["schema", "snapshot", "--yes", "--format", "json", currentPath]);
    const rawCurrent = validateSnapshot(JSON.parse(await readFile(currentPath, "utf8")), "current schema");
    const current = stripSqlOwned(rawCurrent, sqlOwned);

    const plan = planSchemaApply(current.snapshot, target.snapshot);
    // The target goes to Directus as JSON, stripped: no ghost ever reaches it. SQL tables that Directus
    // tracks (someone configured one in the admin UI) are excluded from its diff, so never dropped.
    const targetPath = path.join(work, "target.json");
    await writeFile(targetPath, JSON.stringify(target.snapshot));
    const ignore = current.stripped.collections.filter((c) => rawCurrent.collections.some((rc) => rc.collection === c));
    const ignoreArgs = ignore.length > 0 ? ["--ignoreRules", ignore.join(",")] : [];

    const dryRun = await cli(["schema", "apply", "--dry-run", ...ignoreArgs, targetPath]);
    if (/No changes to apply/.test(dryRun)) {
      log(`${LOG_PREFIX} no changes: the database already matches ${path.basename(options.snapshotPath)}`);
      return { status: "unchanged", plan };
    }
    for (const line of directusLines(dryRun)) log(`${LOG_PREFIX} | ${line}`);
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
    const applied = await cli(["schema", "apply", "--yes", ...ignoreArgs, targetPath]);
    if (!/Snapshot applied successfully/.test(applied)) {
      throw new DirectusCliError("schema apply", applied, "it did not report success");
    }
    log(`${LOG_PREFIX} applied ${path.basename(options.snapshotPath)}`);
    return { status: "applied", plan };
  } finally {
    await rm(work, { recursive: true, force: true });
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

/** Runs `node cli.js <args>`; throws on a non-zero exit and on error lines even with exit 0. */
async function runDirectusCli(options: ApplySchemaOptions, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const command = args.filter((a) => !a.startsWith("/")).join(" ");
  const { code, output } = await run(
    options.nodeBin ?? "node",
    ["cli.js", ...args],
    options.directusDir,
    // info: "No changes to apply." and "Snapshot applied successfully" are info lines; no colours to parse.
    { ...env, LOG_LEVEL: "info", NO_COLOR: "1", FORCE_COLOR: "0" },
    (options.timeoutSeconds ?? 120) * 1000,
  );
  const notInstalled = /isn't installed on this database|relation "directus_\w+" does not exist/.test(output);
  const hint = notInstalled ? " (Directus is not installed on this database: run `node cli.js bootstrap` first)" : "";
  if (code !== 0) throw new DirectusCliError(command, output, `exit code ${code}${hint}`);
  const errors = errorLines(output);
  if (errors.length > 0) throw new DirectusCliError(command, output, `it exited 0 but logged: ${errors[0]}${hint}`);
  return output;
}

/** Error lines in pino's pretty ("[12:00:00.000] ERROR: ...") or raw JSON ("level":50) output, and crashes. */
export function errorLines(output: string): string[] {
  return output
    .split("\n")
    .filter(
      (line) =>
        /^\[[^\]]*\]\s+(ERROR|FATAL)\b/.test(line) ||
        /"level":\s*(50|60)\b/.test(line) ||
        /isn't installed on this database/.test(line) ||
        /^\s*(\w+)?Error: /.test(line),
    )
    .map((line) => line.trim());
}

/** The dry-run's own text, without Directus's log noise (warnings about tables it ignores, etc.). */
function directusLines(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "" && !/^\[\d{2}:\d{2}:\d{2}\.\d{3}\]/.test(line) && !line.startsWith("{"));
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} in ${cwd}: ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function tail(text: string, lines: number): string {
  const all = text.split("\n");
  return all.length <= lines ? text : [`(${all.length - lines} lines before)`, ...all.slice(-lines)].join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  | ${line}`)
    .join("\n");
}
