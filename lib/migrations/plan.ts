import { ChecksumMismatchError } from "./errors";
import type { MigrationFile } from "./files";

export interface MigrationPlan {
  pending: MigrationFile[];
  /** Already applied with the same checksum: skipped. */
  applied: MigrationFile[];
}

/**
 * Splits files into pending and already-applied given the guard table's rows.
 * An applied file whose bytes changed stops everything: migrations are append-only.
 * Rows for files not on disk are ignored (other phases share the guard table).
 */
export function planMigrations(files: MigrationFile[], recorded: ReadonlyMap<string, string>): MigrationPlan {
  const mismatches = files
    .filter((f) => recorded.has(f.filename) && recorded.get(f.filename) !== f.checksum)
    .map((f) => ({ filename: f.filename, recorded: recorded.get(f.filename)!, actual: f.checksum }));
  if (mismatches.length > 0) throw new ChecksumMismatchError(mismatches);
  return {
    pending: files.filter((f) => !recorded.has(f.filename)),
    applied: files.filter((f) => recorded.has(f.filename)),
  };
}
