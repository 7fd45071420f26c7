/**
 * npm run db:restore -- <file.dump>: puts a dump made by `pulumi destroy` (backups/) back into the
 * running stack (TRM_STACK, default dev). The database as it is now is dumped first (nothing is lost
 * by a wrong file), then Directus is stopped, the database is recreated and restored the way
 * TimescaleDB wants it (timescaledb_pre_restore / post_restore), and Directus is started again and
 * waited for until healthy.
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { DUMP_SCRIPT, dumpEnv } from "../lib/db/backup";
import { dockerOrThrow, outOfTerminalReach, waitHealthy } from "./lib/docker";
import { finishInFlightStepsOnCtrlC } from "./lib/interrupt";
import { REPO_ROOT } from "./lib/stack";
import { stackEnv } from "./stack-env";

const log = (line: string) => console.log(`db:restore: ${line}`);
const DIRECTUS_START_TIMEOUT_SECONDS = 300;

/** Runs a TimescaleDB restore hook only where the extension provides it. */
const timescaleHook = (fn: string) => `DO $$ BEGIN IF to_regproc('${fn}') IS NOT NULL THEN PERFORM ${fn}(); END IF; END $$`;

export function isCustomFormatDump(file: string): boolean {
  const header = Buffer.alloc(5);
  const fd = openSync(file, "r");
  try {
    readSync(fd, header, 0, 5, 0);
  } finally {
    closeSync(fd);
  }
  return header.toString("latin1") === "PGDMP";
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("name the dump to restore: npm run db:restore -- backups/<stack>-<time>.dump");
  const dump = path.resolve(file);
  let custom: boolean;
  try {
    custom = isCustomFormatDump(dump);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (!custom) throw new Error(`${file} is not a pg_dump custom-format file (made by pulumi destroy or pg_dump -Fc)`);

  const interrupts = finishInFlightStepsOnCtrlC(log);
  const stackName = process.env.TRM_STACK ?? "dev";
  const env = await stackEnv(stackName);
  const db = env.TRM_DB_CONTAINER;
  const exec = (args: string[], stdinFd?: number) => dockerOrThrow(["exec", "-i", "-e", "PGPASSWORD", db, ...args], { stdinFd });
  const psql = (database: string, ...commands: string[]) =>
    exec(["psql", "-h", "127.0.0.1", "-U", env.DB_USER, "-d", database, "-v", "ON_ERROR_STOP=1", "-q", ...commands.flatMap((c) => ["-c", c])]);
  process.env.PGPASSWORD = env.DB_PASSWORD;

  log(`dumping the current ${env.DB_DATABASE} first (backups/)`);
  const safety = spawnSync(...outOfTerminalReach("sh", ["-c", DUMP_SCRIPT]), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...dumpEnv({ dir: "backups", prefix: `${stackName}-before-restore`, container: db, database: env.DB_DATABASE, user: env.DB_USER, password: env.DB_PASSWORD }) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (safety.status !== 0) throw new Error("could not dump the current database first, so nothing was restored");
  if (interrupts.interrupted()) {
    log("stopped before changing anything: the database is as it was");
    return;
  }

  log(`stopping ${env.TRM_DIRECTUS_CONTAINER}`);
  dockerOrThrow(["stop", env.TRM_DIRECTUS_CONTAINER]);
  try {
    const quoted = `"${env.DB_DATABASE}"`;
    log(`recreating ${env.DB_DATABASE} and restoring ${file}`);
    // From template0: template1 carries the extension (the image's init created it there) with rows in
    // its own tables, which the dump's copies of those tables would collide with.
    psql("postgres", `DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`, `CREATE DATABASE ${quoted} TEMPLATE template0`);
    psql(env.DB_DATABASE, "CREATE EXTENSION IF NOT EXISTS timescaledb", timescaleHook("timescaledb_pre_restore"));
    const fd = openSync(dump, "r");
    try {
      exec(["pg_restore", "-h", "127.0.0.1", "-U", env.DB_USER, "-d", env.DB_DATABASE, "--exit-on-error"], fd);
    } finally {
      closeSync(fd);
    }
    psql(env.DB_DATABASE, timescaleHook("timescaledb_post_restore"));
  } catch (error) {
    // Directus stays stopped: it would only crash on a database half restored
    throw new Error(
      `${(error as Error).message}\nthe database is only partly restored and ${env.TRM_DIRECTUS_CONTAINER} is stopped. ` +
        `Put the dump taken just before back: npm run db:restore -- <the newest backups/${stackName}-before-restore-*.dump>`,
    );
  }
  log(`starting ${env.TRM_DIRECTUS_CONTAINER}`);
  dockerOrThrow(["start", env.TRM_DIRECTUS_CONTAINER]);
  waitHealthy(env.TRM_DIRECTUS_CONTAINER, DIRECTUS_START_TIMEOUT_SECONDS);
  log(`restored ${file} into stack ${stackName}; Directus is healthy`);
}

main().catch((error: Error) => {
  console.error(`db:restore: ERROR ${error.message}`);
  process.exitCode = process.exitCode || 1;
});
