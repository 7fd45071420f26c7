/**
 * `directus bootstrap`, run only when it has something to do. On a database where Directus is installed,
 * bootstrap (@directus/api cli/commands/bootstrap) only runs Directus's migrations ("latest": every
 * migration file of @directus/api and of MIGRATIONS_PATH whose version is not in directus_migrations);
 * the first admin, PROJECT_NAME and PROJECT_OWNER are written only on the install itself. So when
 * directus_collections exists and every shipped version is recorded, bootstrap would load Directus
 * (~2 s) to do nothing, and is skipped. Whether an admin exists does not enter: bootstrap creates
 * none on an installed database either.
 * Anything this cannot check (settings Directus might read elsewhere, a query failing) runs bootstrap.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import * as path from "node:path";
import type pg from "pg";
import { newClient } from "../db/client";
import { readDbSettings } from "../db/settings";
import { directusPackageDir, shortcutBlockers } from "./directus-env";

export interface BootstrapOptions {
  directusDir: string;
  /** Node 22 (Directus's). Default: `node` from PATH. */
  nodeBin?: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

const LOG_PREFIX = "bootstrap:";

/** Runs `node cli.js bootstrap` (output on ours) unless it provably has nothing to do. */
export async function bootstrapIfNeeded(options: BootstrapOptions): Promise<"skipped" | "ran"> {
  const reason = await whyBootstrap(options.directusDir, options.env);
  if (reason === null) {
    options.log(`${LOG_PREFIX} skipped: Directus is installed and every migration it ships is applied`);
    return "skipped";
  }
  options.log(`${LOG_PREFIX} running \`directus bootstrap\` (${reason})`);
  const code = await run(options.nodeBin ?? "node", ["cli.js", "bootstrap"], options.directusDir, options.env);
  if (code !== 0) throw Object.assign(new Error(`\`directus bootstrap\` exited with ${code}`), { exitCode: code ?? 1 });
  return "ran";
}

/** Why bootstrap must run, or null when it would do nothing. */
export async function whyBootstrap(directusDir: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const blockers = shortcutBlockers(env, directusDir);
  if (blockers.length > 0) return blockers.join("; ");
  let client: pg.Client | undefined;
  try {
    const versions = await shippedMigrationVersions(directusDir, env);
    client = newClient(readDbSettings(env), "trm-bootstrap-check");
    await client.connect();
    const missing = await missingMigrations(client, versions);
    if (missing === null) return "Directus is not installed on this database";
    if (missing.length > 0) return `${missing.length} of its migrations are not applied, e.g. ${missing[0]}`;
    return null;
  } catch (error) {
    return `could not check: ${(error as Error).message}`;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/**
 * Versions of every migration bootstrap would consider, as @directus/api's migrations/run.js lists them:
 * its own files named like 20201028A-remove-collection-foreign-keys.js, and the custom ones in
 * MIGRATIONS_PATH (relative to the Directus folder, default ./migrations) with a "-" in a .js/.cjs/.mjs name.
 */
export async function shippedMigrationVersions(directusDir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const own = path.join(directusPackageDir(directusDir, "@directus/api"), "dist", "database", "migrations");
  const custom = path.resolve(directusDir, env.MIGRATIONS_PATH || "./migrations");
  const ownFiles = (await readdir(own)).filter((file) => /^[0-9]+[A-Z]-[^.]+\.(?:js|ts)$/.test(file));
  const customFiles = existsSync(custom) ? (await readdir(custom)).filter((file) => file.includes("-") && /\.(c|m)?js$/.test(file)) : [];
  if (ownFiles.length === 0) throw new Error(`no migrations found in ${own}`);
  return [...ownFiles, ...customFiles].map((file) => file.split("-")[0]).sort();
}

/** Shipped versions not in directus_migrations; null when Directus is not installed (no directus_collections). */
export async function missingMigrations(client: pg.Client, versions: string[]): Promise<string[] | null> {
  const { rows } = await client.query<{ installed: boolean }>(
    "SELECT to_regclass('public.directus_collections') IS NOT NULL AND to_regclass('public.directus_migrations') IS NOT NULL AS installed",
  );
  if (!rows[0].installed) return null;
  const done = new Set((await client.query<{ version: string }>("SELECT version FROM directus_migrations")).rows.map((r) => r.version));
  return versions.filter((version) => !done.has(version));
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (error) => reject(new Error(`cannot run ${command} in ${cwd}: ${error.message}`)));
    child.on("close", resolve);
  });
}
