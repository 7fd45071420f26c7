import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { DuplicatePrefixError, InvalidMigrationFileError } from "./errors";

export interface MigrationFile {
  /** The basename: the key in migrations_applied, unique across every migration folder. */
  filename: string;
  path: string;
  prefix: string;
  sql: string;
  /** sha256 hex of the file's bytes, as the bash runner recorded it. */
  checksum: string;
}

const MIGRATION_NAME = /^(\d+)_[A-Za-z0-9_.-]+\.sql$/;

/**
 * Lists `NNN_name.sql` files of the given folders in lexical order of filename.
 * Refuses duplicate numeric prefixes and duplicate basenames before anything is applied.
 */
export async function readMigrationFiles(dirs: string[]): Promise<MigrationFile[]> {
  const files: MigrationFile[] = [];
  for (const dir of dirs) {
    for (const filename of await listSqlFiles(dir)) {
      const match = MIGRATION_NAME.exec(filename);
      if (!match) {
        throw new InvalidMigrationFileError(
          `${path.join(dir, filename)}: migration files must be named NNN_name.sql (digits, underscore, name)`,
        );
      }
      const filePath = path.join(dir, filename);
      const bytes = await readFile(filePath);
      files.push({
        filename,
        path: filePath,
        prefix: match[1],
        sql: bytes.toString("utf8"),
        checksum: createHash("sha256").update(bytes).digest("hex"),
      });
    }
  }
  assertUnique(files);
  return files.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
}

async function listSqlFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && e.name.endsWith(".sql")).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new InvalidMigrationFileError(`migration folder ${dir} does not exist`);
    }
    throw error;
  }
}

/** Same number means same position: ambiguous order. (Equal basenames share a prefix, so they land here too.) */
function assertUnique(files: MigrationFile[]): void {
  const byPrefix = new Map<number, string[]>();
  for (const file of files) byPrefix.set(Number(file.prefix), [...(byPrefix.get(Number(file.prefix)) ?? []), file.path]);
  const clashes = [...byPrefix.values()].filter((paths) => paths.length > 1);
  if (clashes.length > 0) throw new DuplicatePrefixError(clashes);
}
