/**
 * The database dump, as a POSIX shell script: pg_dump (custom format) inside the database container,
 * so the host needs no PostgreSQL client of the right version. Used by the DatabaseBackup component
 * (on `pulumi destroy`) and by `npm run db:restore` (before it replaces a database). It reads:
 *   TRM_BACKUP_DIR, TRM_BACKUP_PREFIX   → $TRM_BACKUP_DIR/$TRM_BACKUP_PREFIX-<UTC timestamp>.dump (0600)
 *   TRM_DB_CONTAINER, TRM_DB_NAME, TRM_DB_USER, PGPASSWORD
 *   TRM_SKIP_BACKUP=1                   skips it (for one destroy of a database that is gone anyway)
 * The dump goes to a .partial file first, so a failure never leaves a file that looks like a backup.
 */
export const DUMP_SCRIPT = `set -eu
if [ "\${TRM_SKIP_BACKUP:-}" = 1 ]; then echo "backup: skipped (TRM_SKIP_BACKUP=1)"; exit 0; fi
umask 077
mkdir -p "$TRM_BACKUP_DIR"
file="$TRM_BACKUP_DIR/$TRM_BACKUP_PREFIX-$(date -u +%Y%m%dT%H%M%SZ).dump"
if ! docker exec -e PGPASSWORD "$TRM_DB_CONTAINER" pg_dump -h 127.0.0.1 -U "$TRM_DB_USER" -d "$TRM_DB_NAME" --format=custom > "$file.partial"; then
  rm -f "$file.partial"
  echo "backup: pg_dump in $TRM_DB_CONTAINER failed (above), so nothing was deleted. Start the database (docker start $TRM_DB_CONTAINER) and try again, or go on without a backup: TRM_SKIP_BACKUP=1" >&2
  exit 1
fi
mv "$file.partial" "$file"
echo "backup: wrote $file ($(wc -c < "$file") bytes); restore with: npm run db:restore -- $file"
`;

/** The environment DUMP_SCRIPT reads. */
export interface DumpSettings {
  dir: string;
  prefix: string;
  container: string;
  database: string;
  user: string;
  password: string;
}

export function dumpEnv(s: DumpSettings): Record<string, string> {
  return {
    TRM_BACKUP_DIR: s.dir,
    TRM_BACKUP_PREFIX: s.prefix,
    TRM_DB_CONTAINER: s.container,
    TRM_DB_NAME: s.database,
    TRM_DB_USER: s.user,
    PGPASSWORD: s.password,
  };
}
