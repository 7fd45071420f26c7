/**
 * The schema step's shortcut: when neither the snapshot to apply nor anything Directus's snapshot of
 * the database is made from has changed since a diff found nothing to do, the diff would find nothing
 * again, so Directus need not be loaded (seconds) to say so.
 *
 * - the target key: a hash of everything on our side the diff depends on: the stripped snapshot, the
 *   SQL-owned tables, the Directus version, DB_EXCLUDE_TABLES;
 * - the fingerprint: a hash, read with one query, of everything on the database's side Directus's
 *   getSnapshot() reads: the directus_collections, directus_fields and directus_relations rows, and of
 *   every table of `public` the columns, single-column constraints and single-column plain indexes, as
 *   @directus/schema's PostgreSQL inspector reads them (columnInfo/foreignKeys: it looks at nothing
 *   wider, so the composite uniques of db-post/ are not part of the snapshot and not of this either);
 * - both are recorded in trm_startup.schema_state (a schema of its own: Directus lists every table of
 *   `public`) after a diff found no changes, or after an apply that a second diff confirmed.
 * Anything it cannot read or write means "compare with Directus", never "skip".
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { Snapshot } from "./snapshot";

/** Bump when what goes into the key or the fingerprint changes: recorded states then no longer match. */
const FINGERPRINT_VERSION = 1;
export const STATE_SCHEMA = "trm_startup";
export const STATE_TABLE = `${STATE_SCHEMA}.schema_state`;

export interface TargetKeyInputs {
  /** The snapshot as it goes to Directus: SQL-owned tables stripped. */
  target: Snapshot;
  sqlOwnedTables: string[];
  directusVersions: string;
  env: NodeJS.ProcessEnv;
}

export function targetKey(inputs: TargetKeyInputs): string {
  return sha256(
    JSON.stringify({
      version: FINGERPRINT_VERSION,
      directus: inputs.directusVersions,
      excludeTables: inputs.env.DB_EXCLUDE_TABLES ?? null,
      sqlOwned: [...inputs.sqlOwnedTables].sort(),
      target: inputs.target,
    }),
  );
}

// Relation kinds Directus may list as tables; the inspector's columns come from ordinary tables ('r').
const SCHEMA_FINGERPRINT_SQL = `
WITH ns AS (SELECT to_regnamespace('public') AS oid),
rels AS (
  SELECT c.oid, c.relname, c.relkind, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
cols AS (
  SELECT r.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, a.attgenerated,
         a.attidentity, pg_get_expr(d.adbin, d.adrelid) AS expr, col_description(a.attrelid, a.attnum) AS comment,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND a.attnum = ALL (i.indkey) AND NOT i.indisunique) AS indexed
  FROM rels r
  JOIN pg_attribute a ON a.attrelid = r.oid
  LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
  WHERE a.attnum > 0 AND NOT a.attisdropped
),
cons AS (
  SELECT con.conname, con.contype, rel.relname, att.attname, frel.relnamespace::regnamespace::text AS fschema,
         frel.relname AS frelname, fatt.attname AS fattname, con.confupdtype, con.confdeltype,
         CASE WHEN con.contype = 'p' THEN pg_get_serial_sequence(att.attrelid::regclass::text, att.attname) END AS serial
  FROM pg_constraint con
  JOIN ns ON con.connamespace = ns.oid
  LEFT JOIN pg_class rel ON con.conrelid = rel.oid
  LEFT JOIN pg_class frel ON con.confrelid = frel.oid
  LEFT JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
  LEFT JOIN pg_attribute fatt ON fatt.attrelid = con.confrelid AND fatt.attnum = con.confkey[1]
  WHERE array_length(con.conkey, 1) <= 1 AND (con.confkey IS NULL OR array_length(con.confkey, 1) = 1)
)
SELECT encode(sha256(convert_to(concat_ws(E'\\n',
  current_setting('server_version_num'),
  (SELECT count(*) FROM pg_proc WHERE proname = 'postgis_version')::text,
  (SELECT json_agg(t ORDER BY t.collection)::text FROM directus_collections t),
  (SELECT json_agg(t ORDER BY t.collection, t.field, t.id)::text FROM directus_fields t),
  (SELECT json_agg(t ORDER BY t.id)::text FROM directus_relations t),
  (SELECT json_agg(t ORDER BY t.relname)::text FROM rels t),
  (SELECT json_agg(t ORDER BY t.relname, t.attnum)::text FROM cols t),
  (SELECT json_agg(t ORDER BY t.relname, t.conname)::text FROM cons t)
), 'UTF8')), 'hex') AS fingerprint`;

const UNDEFINED_TABLE = "42P01";
const UNDEFINED_SCHEMA = "3F000";

/** The live schema's fingerprint; null where Directus is not installed (no directus_* tables). */
export async function readSchemaFingerprint(client: pg.Client): Promise<string | null> {
  try {
    const { rows } = await client.query<{ fingerprint: string }>(SCHEMA_FINGERPRINT_SQL);
    return rows[0].fingerprint;
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return null;
    throw error;
  }
}

export interface RecordedState {
  targetKey: string;
  fingerprint: string;
}

/** The state recorded by the last boot that found nothing to do; null when none was. */
export async function readRecordedState(client: pg.Client): Promise<RecordedState | null> {
  try {
    const { rows } = await client.query<{ target_key: string; fingerprint: string }>(`SELECT target_key, fingerprint FROM ${STATE_TABLE}`);
    return rows[0] ? { targetKey: rows[0].target_key, fingerprint: rows[0].fingerprint } : null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return null;
    throw error;
  }
}

/** Records a state in which the snapshot with `key` needs no change; the one row is replaced. */
export async function recordState(client: pg.Client, state: RecordedState): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (
       id boolean PRIMARY KEY DEFAULT true CHECK (id),
       target_key text NOT NULL,
       fingerprint text NOT NULL,
       recorded_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  await client.query(
    `INSERT INTO ${STATE_TABLE} (target_key, fingerprint) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET target_key = EXCLUDED.target_key, fingerprint = EXCLUDED.fingerprint, recorded_at = now()`,
    [state.targetKey, state.fingerprint],
  );
}

/** True when `key` was recorded for exactly the schema the database has now. */
export async function unchangedSinceRecorded(client: pg.Client, key: string): Promise<boolean> {
  const recorded = await readRecordedState(client);
  if (!recorded || recorded.targetKey !== key) return false;
  return (await readSchemaFingerprint(client)) === recorded.fingerprint;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
