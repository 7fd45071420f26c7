/** Exit codes are those of the team's bash runner, so callers and CI scripts keep working. */
export const EXIT = {
  ok: 0,
  other: 1,
  checksumMismatch: 2,
  sqlFailure: 3,
  duplicatePrefix: 4,
} as const;

export abstract class MigrationError extends Error {
  abstract readonly exitCode: number;
}

export interface EditedMigration {
  filename: string;
  recorded: string;
  actual: string;
}

export function checksumMismatchMessage(files: EditedMigration[]): string {
  return (
    `checksum mismatch: ${files.map((f) => f.filename).join(", ")} changed after being applied ` +
    `(recorded ${short(files[0].recorded)}, file now ${short(files[0].actual)}). ` +
    `Migrations are append-only: restore the file and put the change in a new NNN_name.sql`
  );
}

export class ChecksumMismatchError extends MigrationError {
  readonly exitCode = EXIT.checksumMismatch;
  constructor(readonly files: EditedMigration[]) {
    super(checksumMismatchMessage(files));
    this.name = "ChecksumMismatchError";
  }
}

export class DuplicatePrefixError extends MigrationError {
  readonly exitCode = EXIT.duplicatePrefix;
  constructor(readonly clashes: string[][]) {
    super(
      `duplicate migration prefix: ${clashes.map((group) => group.join(" and ")).join("; ")}. ` +
        `Give each file its own number; nothing was applied`,
    );
    this.name = "DuplicatePrefixError";
  }
}

export class InvalidMigrationFileError extends MigrationError {
  readonly exitCode = EXIT.other;
  constructor(message: string) {
    super(message);
    this.name = "InvalidMigrationFileError";
  }
}

export class MigrationSqlError extends MigrationError {
  readonly exitCode = EXIT.sqlFailure;
  constructor(
    readonly filename: string,
    readonly sqlMessage: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = line ? `${filename}:${line}:${column}` : filename;
    super(`SQL error in ${where}: ${sqlMessage}. Nothing from ${filename} was kept; fix it and run again`);
    this.name = "MigrationSqlError";
  }
}

function short(checksum: string): string {
  return checksum.slice(0, 12);
}
