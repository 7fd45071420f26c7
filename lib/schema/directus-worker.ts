/**
 * Directus's own schema functions, loaded once, in Directus's Node (22): the ones `directus schema
 * snapshot` and `directus schema apply` call (getSnapshot, getSnapshotDiff, the CLI's
 * filterSnapshotDiff for --ignoreRules, applySnapshot), after the same connection and install checks
 * and the same extension loading. Each CLI call spends ~2.4 s loading Directus; the start-up's schema
 * step needed up to three of them, this needs one load for all.
 *
 * Run with the Directus folder as cwd (its env, extensions and migrations paths are relative):
 *   node schema-worker.cjs                       (bundled: dist/image/bin, see lib/build/image-bundle.ts)
 *   node --experimental-strip-types lib/schema/directus-worker.ts   (from source; hence no relative imports)
 * Requests arrive as JSON lines on stdin, answers leave as JSON lines on fd 3; Directus's own logging
 * keeps stdout and stderr. lib/schema/directus-cli.ts drives it.
 */
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

type Json = Record<string, unknown>;
export type WorkerRequest = { op: "snapshot" } | { op: "diff"; target: Json; ignoreRules: string[] } | { op: "apply" } | { op: "close" };
export type WorkerAnswer = { ok: true; value?: unknown } | { ok: false; error: string; notInstalled?: boolean };

const ANSWERS_FD = 3;

interface DirectusSchemaApi {
  database: { destroy(): Promise<void> };
  isInstalled(): Promise<boolean>;
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
  await extensions.loadExtensions(); // as the CLI does before any command: hooks see the apply
  return {
    database,
    isInstalled: db.isInstalled,
    getSnapshot: snapshot.getSnapshot,
    getSnapshotDiff: diff.getSnapshotDiff,
    filterSnapshotDiff: cliApply.filterSnapshotDiff,
    applySnapshot: apply.applySnapshot,
  };
}

/** The conversation: snapshot → diff → apply, each on the previous one's result, as `schema apply` chains them. */
function handler(api: DirectusSchemaApi) {
  let current: Json | undefined;
  let target: Json | undefined;
  let diff: Json | undefined;
  return async (request: WorkerRequest): Promise<unknown> => {
    switch (request.op) {
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
  if (!(await api.isInstalled())) {
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
