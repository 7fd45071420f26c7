/**
 * db-init: applies NNN_name.sql migrations from one or more folders.
 *   npm run db:init -- db-init [db-post ...]
 * Connection from DB_HOST, DB_PORT, DB_DATABASE, DB_USER, DB_PASSWORD; DB_INIT_TIMEOUT_SECONDS (default 60).
 * Exit codes (as the team's bash runner): 0 done, 2 checksum mismatch, 3 SQL failure,
 * 4 duplicate numeric prefix, 1 anything else.
 */
import { readDbSettings, readSeconds } from "../lib/db/settings";
import { DEFAULT_TIMEOUT_SECONDS, runMigrations } from "../lib/migrations/runner";

async function main(): Promise<void> {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) throw usageError("give at least one migration folder, e.g. npm run db:init -- db-init");
  await runMigrations({
    dirs,
    db: readDbSettings(process.env),
    timeoutSeconds: readSeconds(process.env, "DB_INIT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
    log: (line) => console.log(line),
  });
}

function usageError(message: string): Error & { exitCode: number } {
  return Object.assign(new Error(message), { exitCode: 1 });
}

main().catch((error: Error & { exitCode?: number }) => {
  console.error(`db-init: ERROR ${error.message}`);
  process.exitCode = error.exitCode ?? 1;
});
