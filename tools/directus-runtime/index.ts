/**
 * A real Directus 11.17.4 for tests and tooling, outside the project's own dependency tree.
 *
 * `ensureDirectusRuntime()` installs this folder's pinned package.json + package-lock.json into
 * `${TRM_CACHE_DIR:-~/.cache/trm}/directus-runtime-<hash>` once (later calls reuse it), laid out
 * like the upstream image's `/directus`: `cli.js`, `ecosystem.config.cjs`, `uploads/`,
 * `extensions/`, `node_modules/.bin/pm2-runtime`.
 * `startDirectus()` bootstraps a database with a random admin and serves it on a free port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { dbEnv, type DbSettings } from "../../lib/db/settings";
import { freePort } from "../../lib/free-port";
import { ensureDirectusRuntime, type DirectusRuntime } from "./install";
import { OUTPUT_TAIL_CHARS, runCapture, sleep } from "./process";

export { DIRECTUS_VERSION, NODE_VERSION, ensureDirectusRuntime, withInstallLock, type DirectusRuntime, type RuntimeOptions } from "./install";
export { freePort };

const HEALTH_TIMEOUT_MS = 90_000;
const HEALTH_POLL_MS = 250;
const STOP_GRACE_MS = 10_000;
// ---------------------------------------------------------------------------------------------
// A running Directus

export interface StartOptions {
  db: DbSettings;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Extra environment for bootstrap, start and cli(); wins over the defaults. */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /**
   * Runs between `bootstrap` and `start`, like the image's start-up (schema apply, post-schema
   * migrations): the server then starts on the final schema and caches nothing stale.
   */
  afterBootstrap?: (directus: BootstrappedDirectus) => Promise<void>;
}

export interface BootstrappedDirectus {
  env: Record<string, string>;
  runtime: DirectusRuntime;
  cli: RunningDirectus["cli"];
}

export interface RunningDirectus {
  url: string;
  adminEmail: string;
  adminPassword: string;
  /** The full environment Directus runs with (DB_*, KEY, SECRET, PUBLIC_URL, PATH with Node 22 ...). */
  env: Record<string, string>;
  runtime: DirectusRuntime;
  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>;
  /** Stop and start again on the same port (e.g. after a CLI schema apply: the server caches the schema). */
  restart(): Promise<void>;
  /** `node cli.js <args>` in the runtime folder with this instance's environment. */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<{ code: number | null; output: string }>;
  /** The server's recent stdout/stderr, for error messages. */
  output(): string;
}

export const ADMIN_EMAIL = "admin@example.com";

/** Bootstraps the database (idempotent), starts `node cli.js start` and waits until it answers as ours. */
export async function startDirectus(options: StartOptions): Promise<RunningDirectus> {
  const runtime = await ensureDirectusRuntime({ log: options.log });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const adminPassword = randomBytes(12).toString("base64url");
  const env = directusEnv(runtime, options.db, port, url, adminPassword, options.env ?? {});

  const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCapture(runtime.nodeBin, ["cli.js", ...args], runtime.dir, { ...env, ...extraEnv });

  const bootstrap = await cli(["bootstrap"]);
  if (bootstrap.code !== 0 || /\b(ERROR|FATAL)\b/.test(bootstrap.output)) {
    throw new Error(`directus bootstrap failed (exit ${bootstrap.code}):\n${bootstrap.output}`);
  }

  await options.afterBootstrap?.({ env, runtime, cli });

  let server = await serve(runtime, env, url, ADMIN_EMAIL, adminPassword);
  return {
    url,
    adminEmail: ADMIN_EMAIL,
    adminPassword,
    env,
    runtime,
    stop: () => server.stop(),
    async restart() {
      await server.stop();
      server = await serve(runtime, env, url, ADMIN_EMAIL, adminPassword);
    },
    cli,
    output: () => server.output(),
  };
}

/** This process's environment minus every Directus/DB setting, so nothing of the caller's leaks into Directus. */
export function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !/^(DB_|DIRECTUS_|ADMIN_|KEY$|SECRET$|PUBLIC_URL$|PORT$|HOST$|NODE_OPTIONS$)/.test(entry[0]),
    ),
  );
}

function directusEnv(
  runtime: DirectusRuntime,
  db: DbSettings,
  port: number,
  url: string,
  adminPassword: string,
  extra: Record<string, string>,
): Record<string, string> {
  // PATH gets Node 22 first.
  return {
    ...inheritedEnv(),
    PATH: `${runtime.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    NODE_ENV: "production",
    DB_CLIENT: "pg",
    ...dbEnv(db),
    KEY: randomBytes(24).toString("hex"),
    SECRET: randomBytes(32).toString("hex"),
    ADMIN_EMAIL,
    ADMIN_PASSWORD: adminPassword,
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: url,
    TELEMETRY: "false",
    LOG_LEVEL: "warn",
    // Node 22's on-disk bytecode cache: each CLI call loads all of Directus (~3 s of CPU), ~15% less with it.
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE || path.join(runtime.dir, ".node-compile-cache"),
    ...extra,
  };
}

interface Server {
  stop(): Promise<void>;
  output(): string;
}

async function serve(runtime: DirectusRuntime, env: Record<string, string>, url: string, email: string, password: string): Promise<Server> {
  const child = spawn(runtime.nodeBin, ["cli.js", "start"], { cwd: runtime.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const server: Server = { stop: () => stopChild(child, exited), output: () => output };

  try {
    await waitForHealth(url, child, () => output);
    await assertItIsOurs(url, email, password);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`directus start exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/server/health`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { status?: string };
      if (body.status === "ok") return;
      last = `HTTP ${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(HEALTH_POLL_MS);
  }
  throw new Error(`directus at ${url} not healthy after ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last}):\n${output()}`);
}

/** Another process could hold the port; only our instance knows this random admin password. */
async function assertItIsOurs(url: string, email: string, password: string): Promise<void> {
  const response = await fetch(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) {
    throw new Error(`something healthy answers at ${url} but rejects our admin login (HTTP ${response.status}): not our Directus`);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_GRACE_MS).unref());
  if ((await Promise.race([exited.then(() => "exited" as const), timer])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

