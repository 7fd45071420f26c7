/**
 * Captures the live schema from the database alone, with Directus's own getSnapshot loaded in a
 * process of its own (directus-worker.ts, the code the start-up's schema step runs): no Directus
 * server is needed, so admin-UI work can be captured while the server is down or restarting.
 * GET /schema/snapshot calls the same function: both give the same snapshot.
 */
import { dbEnv, type DbSettings } from "../db/settings";
import type { CapturedSnapshot } from "./rest";
import { normalizeSnapshot, validateSnapshot } from "./snapshot";
import { stripSqlOwned } from "./strip";
import { DirectusSchemaWorker } from "./worker-client";

export interface DatabaseCaptureOptions {
  db: DbSettings;
  /** A Directus 11.17.4 install (cli.js) and its Node 22. */
  directusDir: string;
  nodeBin: string;
  sqlOwnedTables: Iterable<string>;
  /** Kept: PATH, HOME and the like. Every DB_* and Directus setting in it is replaced. */
  baseEnv?: NodeJS.ProcessEnv;
  timeoutSeconds?: number;
}

export async function captureFromDatabase(options: DatabaseCaptureOptions): Promise<CapturedSnapshot> {
  const env = {
    ...withoutDirectusSettings(options.baseEnv ?? process.env),
    DB_CLIENT: "pg",
    ...dbEnv(options.db),
    TELEMETRY: "false",
  };
  const worker = await DirectusSchemaWorker.start({ directusDir: options.directusDir, nodeBin: options.nodeBin, env, timeoutSeconds: options.timeoutSeconds ?? 120 });
  try {
    const raw = validateSnapshot(await worker.snapshot(), "the database's schema (Directus getSnapshot)");
    const { snapshot, stripped } = stripSqlOwned(raw, options.sqlOwnedTables);
    return { snapshot: normalizeSnapshot(snapshot), stripped };
  } finally {
    await worker.close();
  }
}

function withoutDirectusSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !/^(DB_|DIRECTUS_|ADMIN_|KEY$|SECRET$|PUBLIC_URL$|PORT$|HOST$|NODE_OPTIONS$|CONFIG_PATH$)/.test(entry[0]),
    ),
  );
}
