/**
 * Tables that SQL migrations own (`positions`, `migrations_applied`, any later one) are never Directus
 * collections. They are recognised automatically, two ways:
 * 1. untracked: `meta: null`, i.e. no directus_collections / directus_fields / directus_relations row.
 *    Older Directus versions put every table of `public` into a snapshot this way ("ghost collections");
 *    applying such a snapshot to a fresh database then fails with "create positions: already exists".
 * 2. created by a migration file: the `CREATE TABLE` statements of the migration folders, plus the
 *    runner's guard table. This catches a SQL table someone "configured" in the admin UI: it then has
 *    a directus_collections row, and Directus would happily snapshot it, or drop it on apply.
 */
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import type { Snapshot } from "./snapshot";

/** Created by the migration runner itself (lib/migrations/runner.ts GUARD_TABLE_DDL), not by a file. */
export const MIGRATIONS_GUARD_TABLE = "migrations_applied";

export interface Stripped {
  collections: string[];
  /** `collection.field` */
  fields: string[];
  /** `collection.field` */
  relations: string[];
}

export interface StripResult {
  snapshot: Snapshot;
  stripped: Stripped;
}

/** Removes SQL-owned collections with their fields and relations, and untracked fields/relations. */
export function stripSqlOwned(snapshot: Snapshot, sqlOwnedTables: Iterable<string> = []): StripResult {
  const owned = new Set(sqlOwnedTables);
  const ownedCollections = new Set(
    snapshot.collections.filter((c) => c.meta === null || owned.has(c.collection)).map((c) => c.collection),
  );
  const isOwned = (collection: string | null) => collection !== null && (ownedCollections.has(collection) || owned.has(collection));

  const fields = snapshot.fields.filter((f) => !isOwned(f.collection) && f.meta !== null);
  const relations = snapshot.relations.filter(
    (r) => !isOwned(r.collection) && !isOwned(r.related_collection) && r.meta !== null,
  );
  const systemFields = snapshot.systemFields?.filter((f) => !isOwned(f.collection));
  return {
    snapshot: {
      ...snapshot,
      collections: snapshot.collections.filter((c) => !ownedCollections.has(c.collection)),
      fields,
      ...(systemFields ? { systemFields } : {}),
      relations,
    },
    stripped: {
      collections: [...ownedCollections].sort(),
      fields: snapshot.fields.filter((f) => !fields.includes(f)).map((f) => `${f.collection}.${f.field}`),
      relations: snapshot.relations.filter((r) => !relations.includes(r)).map((r) => `${r.collection}.${r.field}`),
    },
  };
}

/**
 * Table names that the migration folders create (`CREATE [UNLOGGED] TABLE [IF NOT EXISTS] [schema.]name`),
 * plus the runner's guard table. Comments are ignored; names come back sorted and unique.
 */
export async function findSqlOwnedTables(migrationDirs: string[]): Promise<string[]> {
  const tables = new Set<string>([MIGRATIONS_GUARD_TABLE]);
  for (const dir of migrationDirs) {
    const files = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
    for (const file of files) {
      for (const table of tablesCreatedBy(await readFile(path.join(dir, file), "utf8"))) tables.add(table);
    }
  }
  return [...tables].sort();
}

const IDENTIFIER = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_TABLE = new RegExp(
  String.raw`\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER})?)`,
  "gi",
);

export function tablesCreatedBy(sql: string): string[] {
  const code = sql.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/--[^\n]*/g, " ");
  const tables: string[] = [];
  for (const match of code.matchAll(CREATE_TABLE)) {
    const parts = match[1].split(/\s*\.\s*(?=(?:"|[A-Za-z_]))/);
    const name = parts[parts.length - 1];
    tables.push(name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase());
  }
  return tables;
}
