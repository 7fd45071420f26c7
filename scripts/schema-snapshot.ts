/**
 * schema:snapshot: captures the live schema into snapshots/schema.yaml, without the tables SQL
 * migrations own, in a stable order (a re-capture of an unchanged schema rewrites the same bytes).
 *   npm run stack -- schema:snapshot                       the dev stack's database
 *   DB_HOST=... DB_PORT=... DB_DATABASE=... DB_USER=... DB_PASSWORD=...   npm run schema:snapshot [-- --out x.yaml]
 *   DIRECTUS_URL=... DIRECTUS_TOKEN=...   npm run schema:snapshot -- --via-api
 * From the database (the default when DB_* are set) it needs no running Directus: Directus's own
 * getSnapshot runs in the cached Directus 11.17.4 runtime (tools/directus-runtime; its first use
 * installs it, minutes). --via-api asks a running Directus (GET /schema/snapshot) instead.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { readDbSettings } from "../lib/db/settings";
import { captureFromDatabase } from "../lib/schema/capture";
import { captureSnapshot, connectDirectus, type CapturedSnapshot } from "../lib/schema/rest";
import { readDirectusConnection } from "../lib/schema/settings";
import { serializeSnapshot } from "../lib/schema/snapshot";
import { findSqlOwnedTables } from "../lib/schema/strip";
import { ensureDirectusRuntime } from "../tools/directus-runtime/index";
import { MIGRATION_DIRS, outputPath, rejectUnknownFlags, reportFailure } from "./schema-support";

const log = (line: string) => console.log(`schema:snapshot: ${line}`);

async function capture(viaApi: boolean, sqlOwned: string[]): Promise<CapturedSnapshot> {
  if (viaApi || !process.env.DB_HOST) {
    const connection = readDirectusConnection(process.env);
    log(`reading ${connection.url}/schema/snapshot`);
    return captureSnapshot(await connectDirectus(connection), sqlOwned);
  }
  const db = readDbSettings(process.env);
  const runtime = await ensureDirectusRuntime({ log: (line) => log(line) });
  log(`reading the schema from the database ${db.host}:${db.port}/${db.database} with Directus's own getSnapshot (no Directus server needed)`);
  return captureFromDatabase({ db, directusDir: runtime.dir, nodeBin: runtime.nodeBin, sqlOwnedTables: sqlOwned });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  rejectUnknownFlags(argv, ["--out", "--via-api"]);
  const out = outputPath(argv);
  const started = Date.now();
  const { snapshot, stripped } = await capture(argv.includes("--via-api"), await findSqlOwnedTables(MIGRATION_DIRS));
  const yaml = serializeSnapshot(snapshot);
  const before = await readFile(out, "utf8").catch(() => null);
  await writeFile(out, yaml);
  const name = path.relative(process.cwd(), out) || out;
  log(
    `${before === yaml ? "unchanged" : "wrote"} ${name} ` +
      `(${snapshot.collections.length} collections, ${snapshot.fields.length} fields, ${snapshot.relations.length} relations) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const left = [...stripped.collections, ...stripped.fields.filter((f) => !stripped.collections.includes(f.split(".")[0]))];
  log(`SQL-owned, left out: ${left.length > 0 ? left.join(", ") : "none found in the instance"}`);
  if (before !== null && before !== yaml) log(`review: git diff ${name}; commit it, and the next boot applies it without drift`);
}

main().catch(reportFailure("schema:snapshot"));
