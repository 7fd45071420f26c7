/**
 * schema:snapshot: captures the schema of a running Directus into snapshots/schema.yaml, without the
 * tables SQL migrations own, in a stable order (a re-capture of an unchanged schema rewrites the same bytes).
 *   DIRECTUS_URL=... DIRECTUS_TOKEN=...   npm run schema:snapshot [-- --out other.yaml]
 *   (or DIRECTUS_ADMIN_EMAIL + DIRECTUS_ADMIN_PASSWORD instead of DIRECTUS_TOKEN)
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { captureSnapshot, connectDirectus } from "../lib/schema/rest";
import { readDirectusConnection } from "../lib/schema/settings";
import { serializeSnapshot } from "../lib/schema/snapshot";
import { findSqlOwnedTables } from "../lib/schema/strip";
import { MIGRATION_DIRS, outputPath, rejectUnknownFlags, reportFailure } from "./schema-support";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  rejectUnknownFlags(argv, ["--out"]);
  const out = outputPath(argv);
  const client = await connectDirectus(readDirectusConnection(process.env));
  const { snapshot, stripped } = await captureSnapshot(client, await findSqlOwnedTables(MIGRATION_DIRS));
  const yaml = serializeSnapshot(snapshot);
  const before = await readFile(out, "utf8").catch(() => null);
  await writeFile(out, yaml);
  const name = path.relative(process.cwd(), out) || out;
  console.log(
    `schema:snapshot: ${before === yaml ? "unchanged" : "wrote"} ${name} ` +
      `(${snapshot.collections.length} collections, ${snapshot.fields.length} fields, ${snapshot.relations.length} relations)`,
  );
  const left = [...stripped.collections, ...stripped.fields.filter((f) => !stripped.collections.includes(f.split(".")[0]))];
  console.log(`schema:snapshot: SQL-owned, left out: ${left.length > 0 ? left.join(", ") : "none found in the instance"}`);
}

main().catch(reportFailure("schema:snapshot"));
