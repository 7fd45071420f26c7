/**
 * The drift the start-up's schema step found, kept in the database for the tools (`npm run dev`,
 * `npm run stack -- smoke`): trm_startup.schema_drift, beside the step's state table, outside `public`
 * (Directus lists every table of `public`). Rewritten by every boot that compares with Directus; a
 * boot that takes the shortcut leaves it, as the same snapshot and schema give the same drift.
 */
import type pg from "pg";
import { newClient } from "../db/client";
import type { DbSettings } from "../db/settings";
import { driftLines, type DriftItem, type DriftKind, type DriftStatus } from "./drift";
import { STATE_SCHEMA } from "./fingerprint";

export const DRIFT_TABLE = `${STATE_SCHEMA}.schema_drift`;

const UNDEFINED_TABLE = "42P01";
const UNDEFINED_SCHEMA = "3F000";

export interface RecordedDrift {
  items: DriftItem[];
  /** When the boot that found it compared. */
  recordedAt: Date;
}

/** Replaces the recorded drift with `items` (none: the table is emptied). */
export async function recordDrift(client: pg.Client, items: DriftItem[]): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${DRIFT_TABLE} (
       kind text NOT NULL,
       item text NOT NULL,
       status text NOT NULL,
       detail text NOT NULL,
       recorded_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (kind, item)
     )`,
  );
  await client.query("BEGIN");
  try {
    await client.query(`DELETE FROM ${DRIFT_TABLE}`);
    for (const d of items) {
      await client.query(`INSERT INTO ${DRIFT_TABLE} (kind, item, status, detail) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [d.kind, d.item, d.status, d.detail]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** The recorded drift; null when no boot recorded any yet (an image from before, or never compared). */
export async function readDrift(client: pg.Client): Promise<RecordedDrift | null> {
  try {
    const { rows } = await client.query<{ kind: DriftKind; item: string; status: DriftStatus; detail: string; recorded_at: Date }>(
      `SELECT kind, item, status, detail, recorded_at FROM ${DRIFT_TABLE} ORDER BY status, kind, item`,
    );
    if (rows.length === 0) return { items: [], recordedAt: new Date(0) };
    return { items: rows.map(({ kind, item, status, detail }) => ({ kind, item, status, detail })), recordedAt: rows[0].recorded_at };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return null;
    throw error;
  }
}

/**
 * For the tools: the recorded drift in words, one line per item, prefixed. Never throws: a database
 * it cannot read gives one line saying so (the drift report must not fail a ready check).
 */
export async function describeRecordedDrift(db: DbSettings): Promise<string[]> {
  const client = newClient(db, "trm-drift-report");
  try {
    await client.connect();
    const drift = await readDrift(client);
    if (drift === null) return ["schema drift: not recorded (the image's start-up records it from this version on)"];
    if (drift.items.length === 0) return ["schema drift: none (the database schema matches snapshots/schema.yaml)"];
    return [`schema drift, recorded by the start-up at ${drift.recordedAt.toISOString()}:`, ...driftLines(drift.items)];
  } catch (error) {
    return [`schema drift: could not read ${DRIFT_TABLE}: ${(error as Error).message}`];
  } finally {
    await client.end().catch(() => undefined);
  }
}
