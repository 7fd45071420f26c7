/**
 * schema:diff: prints what applying a snapshot (default snapshots/schema.yaml) to a running Directus
 * would change, deletions called out. Changes nothing.
 *   DIRECTUS_URL=... DIRECTUS_TOKEN=...   npm run schema:diff [-- other.yaml]
 */
import { readFile } from "node:fs/promises";
import { deletionLines, describePlan } from "../lib/schema/plan";
import { connectDirectus, diffSchema } from "../lib/schema/rest";
import { readDirectusConnection } from "../lib/schema/settings";
import { parseSnapshot } from "../lib/schema/snapshot";
import { findSqlOwnedTables } from "../lib/schema/strip";
import { MIGRATION_DIRS, rejectUnknownFlags, reportFailure, snapshotArgument } from "./schema-support";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  rejectUnknownFlags(argv, []);
  const file = snapshotArgument(argv);
  const target = parseSnapshot(await readFile(file, "utf8"), file);
  const client = await connectDirectus(readDirectusConnection(process.env));
  const { plan, diff, lines } = await diffSchema(client, target, await findSqlOwnedTables(MIGRATION_DIRS));
  if (!diff) {
    console.log("schema:diff: no changes: the instance matches the snapshot");
    return;
  }
  for (const line of lines) console.log(`schema:diff: | ${line}`);
  for (const line of describePlan(plan)) console.log(`schema:diff: ${line}`);
  if (plan.hasDeletions) {
    console.log("schema:diff: an apply would DELETE (refused unless --allow-deletions):");
    for (const line of deletionLines(plan.delete)) console.log(`schema:diff:   - ${line}`);
  }
}

main().catch(reportFailure("schema:diff"));
