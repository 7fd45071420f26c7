/**
 * Directus's own schema functions, loaded once, in Directus's Node (22): the ones `directus schema
 * snapshot` and `directus schema apply` call (getSnapshot, getSnapshotDiff, the CLI's
 * filterSnapshotDiff for --ignoreRules, applySnapshot), after the same connection and install checks
 * and the same extension loading, and what `directus bootstrap` does (install or migrate). Each CLI
 * call spends ~2.4 s loading Directus; a first boot needed a bootstrap and up to three schema calls,
 * this needs one load for all.
 *
 * Run with the Directus folder as cwd (its env, extensions and migrations paths are relative):
 *   node schema-worker.cjs [--allow-not-installed]   (bundled: dist/image/bin, see lib/build/image-bundle.ts)
 *   node --experimental-strip-types lib/schema/directus-worker.ts   (from source; hence no relative imports)
 * Without --allow-not-installed it refuses a database Directus is not installed on (the schema step
 * alone); with it, a bootstrap request comes first.
 * Requests arrive as JSON lines on stdin, answers leave as JSON lines on fd 3; Directus's own logging
 * keeps stdout and stderr. lib/schema/directus-cli.ts drives it.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import * as readline from "node:readline";
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

type Json = Record<string, unknown>;
export type WorkerRequest = { op: "bootstrap" } | { op: "snapshot" } | { op: "diff"; target: Json; ignoreRules: string[] } | { op: "apply" } | { op: "close" };
export type WorkerAnswer = { ok: true; value?: unknown } | { ok: false; error: string; notInstalled?: boolean };

const ANSWERS_FD = 3;

interface DirectusSchemaApi {
  database: { destroy(): Promise<void> };
  isInstalled(): Promise<boolean>;
  /** What `directus bootstrap` does, without its process.exit. */
  bootstrap(): Promise<void>;
  getSnapshot(options: { database: unknown }): Promise<Json>;
  getSnapshotDiff(current: Json, target: Json): Json;
  filterSnapshotDiff(diff: Json, rules: string[]): Json;
  applySnapshot(target: Json, options: { current: Json; diff: Json; database: unknown }): Promise<void>;
}

/** @directus/api's dist folder, resolved the way Directus's cli.js in the cwd resolves it. */
function apiDist(): string {
  const require = createRequire(path.join(process.cwd(), "cli.js"));
  return path.join(path.dirname(require.resolve("@directus/api/package.json")), "dist");
}

async function loadDirectus(): Promise<DirectusSchemaApi> {
  const dist = apiDist();
  const load = (file: string) => import(pathToFileURL(path.join(dist, file)).href);
  const [db, snapshot, diff, apply, cliApply, extensions] = await Promise.all([
    load("database/index.js"),
    load("utils/get-snapshot.js"),
    load("utils/get-snapshot-diff.js"),
    load("utils/apply-snapshot.js"),
    load("cli/commands/schema/apply.js"),
    load("cli/load-extensions.js"),
  ]);
  const database = db.default();
  await db.validateDatabaseConnection(database); // exits 1 with Directus's own message when unreachable
  // As the CLI does before any command: hooks see the apply. Directus skips this on a database that is
  // not installed or has migrations outstanding; then the bootstrap below loads them once it is done.
  const extensionsReady = (await db.isInstalled()) && (await db.validateMigrations());
  await extensions.loadExtensions();
  return {
    database,
    isInstalled: db.isInstalled,
    bootstrap: async () => {
      await bootstrapDatabase(dist, database, db.isInstalled);
      if (!extensionsReady) await extensions.loadExtensions();
    },
    getSnapshot: snapshot.getSnapshot,
    getSnapshotDiff: diff.getSnapshotDiff,
    filterSnapshotDiff: cliApply.filterSnapshotDiff,
    applySnapshot: apply.applySnapshot,
  };
}

/**
 * @directus/api's cli/commands/bootstrap (11.17.4) step for step, on this process's connection and
 * without the process.exit it ends with: a fresh database gets the system tables, every migration,
 * the first admin (ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN), PROJECT_NAME and PROJECT_OWNER; an
 * installed one gets the migrations it lacks. Its log lines are Directus's own.
 */
async function bootstrapDatabase(dist: string, database: unknown, isInstalled: () => Promise<boolean>): Promise<void> {
  const load = (file: string) => import(pathToFileURL(path.join(dist, file)).href);
  const [logging, migrations, seeds, schemaUtil, settings, admin, env, zod] = await Promise.all([
    load("logger/index.js"),
    load("database/migrations/run.js"),
    load("database/seeds/run.js"),
    load("utils/get-schema.js"),
    load("services/settings.js"),
    load("utils/create-admin.js"),
    import(pathToFileURL(createRequire(path.join(dist, "index.js")).resolve("@directus/env")).href),
    import(pathToFileURL(createRequire(path.join(dist, "index.js")).resolve("zod")).href),
  ]);
  const logger = logging.useLogger();
  const settingsOf = env.useEnv() as Record<string, unknown>;
  logger.info("Initializing bootstrap...");
  if ((await isInstalled()) === false) {
    logger.info("Installing Directus system tables...");
    await seeds.default(database);
    logger.info("Running migrations...");
    await migrations.default(database, "latest");
    const schema = await schemaUtil.getSchema();
    await admin.createAdmin(schema);
    const service = new settings.SettingsService({ schema });
    const projectName = settingsOf["PROJECT_NAME"];
    if (typeof projectName === "string" && projectName.length > 0) await service.upsertSingleton({ project_name: projectName });
    if (zod.email().safeParse(settingsOf["PROJECT_OWNER"]).success) {
      await service.setOwner({ project_owner: settingsOf["PROJECT_OWNER"], org_name: null, project_usage: null, product_updates: false });
    }
  } else {
    logger.info("Database already initialized, skipping install");
    logger.info("Running migrations...");
    await migrations.default(database, "latest");
  }
  logger.info("Done");
}

/** The conversation: snapshot → diff → apply, each on the previous one's result, as `schema apply` chains them. */
function handler(api: DirectusSchemaApi) {
  let current: Json | undefined;
  let target: Json | undefined;
  let diff: Json | undefined;
  return async (request: WorkerRequest): Promise<unknown> => {
    switch (request.op) {
      case "bootstrap":
        await api.bootstrap();
        return undefined;
      case "snapshot":
        current = await api.getSnapshot({ database: api.database });
        return current;
      case "diff": {
        if (!current) throw new Error("diff before snapshot");
        target = request.target;
        diff = api.getSnapshotDiff(current, target);
        if (request.ignoreRules.length > 0) diff = api.filterSnapshotDiff(diff, request.ignoreRules);
        return diff;
      }
      case "apply":
        if (!current || !target || !diff) throw new Error("apply before diff");
        await api.applySnapshot(target, { current, diff, database: api.database });
        return undefined;
      case "close":
        await api.database.destroy();
        return undefined;
    }
  };
}

function answer(message: WorkerAnswer): void {
  writeSync(ANSWERS_FD, JSON.stringify(message) + "\n");
}

async function main(): Promise<void> {
  const api = await loadDirectus();
  if (!process.argv.includes("--allow-not-installed") && !(await api.isInstalled())) {
    answer({ ok: false, error: "Directus isn't installed on this database", notInstalled: true });
    await api.database.destroy();
    return;
  }
  answer({ ok: true });
  const handle = handler(api);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const request = JSON.parse(line) as WorkerRequest;
    try {
      answer({ ok: true, value: await handle(request) });
    } catch (error) {
      answer({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    if (request.op === "close") break;
  }
}

main().then(
  () => process.exit(0), // Directus keeps timers (cache, extensions) alive
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
