import pg from "pg";
import { describeDb, type DbSettings } from "./settings";

export const CONNECT_RETRY_INTERVAL_MS = 500;
const CONNECT_ATTEMPT_TIMEOUT_MS = 5_000;

/** Connection errors that mean "not up yet" rather than "wrong settings". */
const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const TRANSIENT_SQLSTATES = new Set([
  "57P03", // cannot_connect_now: the server is starting up or shutting down
  "53300", // too_many_connections
]);

export class DatabaseUnreachableError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnreachableError";
  }
}

export function newClient(settings: DbSettings, applicationName = "trm-directus"): pg.Client {
  return new pg.Client({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.user,
    password: settings.password,
    connectionTimeoutMillis: CONNECT_ATTEMPT_TIMEOUT_MS,
    application_name: applicationName,
  });
}

export function isTransientConnectError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code && (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.has(code))) return true;
  // pg reports its own connect timeout without a code
  return error instanceof Error && /timeout|Connection terminated unexpectedly/i.test(error.message);
}

/**
 * Connects, retrying while the server is not up yet, for at most `timeoutSeconds`.
 * Authentication and "database does not exist" errors fail at once: waiting will not fix them.
 */
export async function connectWithRetry(
  settings: DbSettings,
  timeoutSeconds: number,
  applicationName?: string,
): Promise<pg.Client> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const client = newClient(settings, applicationName);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!isTransientConnectError(error)) {
        throw new DatabaseUnreachableError(`cannot connect to ${describeDb(settings)}: ${(error as Error).message}`);
      }
      if (Date.now() + CONNECT_RETRY_INTERVAL_MS > deadline) {
        throw new DatabaseUnreachableError(
          `database ${describeDb(settings)} not reachable after ${timeoutSeconds} s ` +
            `(last error: ${(error as Error).message}); check DB_HOST/DB_PORT or raise DB_INIT_TIMEOUT_SECONDS`,
        );
      }
      await sleep(CONNECT_RETRY_INTERVAL_MS);
    }
  }
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(
  settings: DbSettings,
  timeoutSeconds: number,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connectWithRetry(settings, timeoutSeconds);
  // A killed backend emits 'error' on the client; without a listener Node would crash the process.
  client.on("error", () => undefined);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The little of a pg client that the migration runner needs; PGlite fits it too. */
export interface SqlSession {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export async function withTransaction<T>(client: SqlSession, fn: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await fn();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Holds a session-level advisory lock for the duration of `fn`, so concurrent runners take turns. */
export async function withAdvisoryLock<T>(client: pg.Client, lockKey: number, fn: () => Promise<T>): Promise<T> {
  await client.query("SELECT pg_advisory_lock($1)", [lockKey]);
  try {
    return await fn();
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [lockKey]).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
