/**
 * schema:apply: prints the diff, then applies a snapshot (default snapshots/schema.yaml) to a running
 * Directus. Refuses, listing them, any deletion of a collection, field or relation unless allowed.
 *   DIRECTUS_URL=... DIRECTUS_TOKEN=...   npm run schema:apply [-- other.yaml] [--dry-run] [--allow-deletions]
 *   SCHEMA_ALLOW_DELETIONS=true works like --allow-deletions.
 * Exit codes: 0 applied or nothing to do, 5 refused (deletions), 1 anything else.
 */
import { readFile } from "node:fs/promises";
import { applySchemaRest, connectDirectus } from "../lib/schema/rest";
import { readAllowDeletions, readDirectusConnection } from "../lib/schema/settings";
import { parseSnapshot } from "../lib/schema/snapshot";
import { findSqlOwnedTables } from "../lib/schema/strip";
import { MIGRATION_DIRS, rejectUnknownFlags, reportFailure, snapshotArgument } from "./schema-support";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  rejectUnknownFlags(argv, ["--allow-deletions", "--dry-run"]);
  const allowDeletions = readAllowDeletions(argv, process.env);
  const file = snapshotArgument(argv);
  const target = parseSnapshot(await readFile(file, "utf8"), file);
  const client = await connectDirectus(readDirectusConnection(process.env));
  await applySchemaRest(client, target, {
    allowDeletions,
    dryRun: argv.includes("--dry-run"),
    sqlOwnedTables: await findSqlOwnedTables(MIGRATION_DIRS),
    log: (line) => console.log(line.replace(/^schema:/, "schema:apply:")),
  });
}

main().catch(reportFailure("schema:apply"));
