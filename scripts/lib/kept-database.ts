/**
 * A kept data volume holds a database set up with the secrets of the clone (or state) that created
 * it. Adopting it brings that database to this clone's secrets: the database user's password is set
 * from inside the database container over its local socket (trust in both the upstream image and the
 * stand-in: initdb's default for local connections, the entry point only adds a `host` line), and the
 * first admin's password with Directus's own CLI (`directus users passwd`) in a one-off container of
 * the Directus image that shares the database container's network. Secrets reach Docker through the
 * environment of its CLI (`-e NAME`), never a command line or the output.
 */
import { PGDATA } from "../../lib/services";
import { docker, dockerOrThrow } from "./docker";

export interface KeptDatabase {
  stack: string;
  /** The database container's name: the leftover one, or a temporary one of that name on the volume. */
  container: string;
  dataVolume: string;
  /** The database image (for the temporary container). */
  image: string;
  /** The Directus image whose CLI resets the admin's password. */
  directusImage: string;
  db: { name: string; user: string; password: string };
  admin: { email: string; password: string };
  directus: { key: string; secret: string };
}

/** A kept database that cannot be adopted as it is: the message names the objects and the one command that resolves it. */
export class AdoptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdoptionError";
  }
}

const READY_TIMEOUT_SECONDS = 300;

/**
 * Runs a database server on the kept volume (the leftover container, started if needed, or a
 * temporary one), sets both passwords, then stops and removes that container (the `up` creates it
 * again). Returns one line per thing reset.
 */
export function bringKeptDatabaseToSecrets(kept: KeptDatabase, log: (line: string) => void): string[] {
  const state = docker(["inspect", "-f", "{{.State.Running}}", kept.container]);
  if (!state.ok) {
    log(`starting a temporary ${kept.container} on ${kept.dataVolume} to reset its passwords`);
    runTemporaryServer(kept);
  } else if (state.stdout !== "true") {
    dockerOrThrow(["start", kept.container]);
  }
  try {
    waitAcceptingTcp(kept);
    const hasDirectus = findAdmin(kept); // before anything changes: a missing admin stops here
    setDatabasePassword(kept);
    const reset = [`the password of database user ${kept.db.user} (now this clone's dbPassword)`];
    if (!hasDirectus) return reset; // Directus bootstraps it with this clone's admin
    setAdminPassword(kept);
    return [...reset, `the password of Directus admin ${kept.admin.email} (now this clone's adminPassword)`];
  } finally {
    docker(["stop", "-t", "60", kept.container]);
    docker(["rm", "-f", kept.container]);
  }
}

function runTemporaryServer(kept: KeptDatabase): void {
  const env = (name: string, value: string) => ["-e", `${name}=${value}`];
  dockerOrThrow(
    [
      "run", "-d", "--name", kept.container,
      ...env("PGDATA", PGDATA), ...env("POSTGRES_DB", kept.db.name), ...env("POSTGRES_USER", kept.db.user),
      "-e", "POSTGRES_PASSWORD", ...env("TIMESCALEDB_TELEMETRY", "off"),
      "-v", `${kept.dataVolume}:${PGDATA}`,
      kept.image,
    ],
    { env: { POSTGRES_PASSWORD: kept.db.password } },
  );
}

/** Over TCP, like the container's healthcheck: during a first initialisation only the socket answers. */
function waitAcceptingTcp(kept: KeptDatabase): void {
  const deadline = Date.now() + READY_TIMEOUT_SECONDS * 1000;
  for (;;) {
    if (docker(["exec", kept.container, "pg_isready", "-q", "-h", "127.0.0.1", "-U", kept.db.user, "-d", kept.db.name]).ok) return;
    const status = docker(["inspect", "-f", "{{.State.Status}}", kept.container]).stdout;
    if (status !== "running" || Date.now() > deadline) {
      const logs = docker(["logs", "--tail", "20", kept.container]);
      throw new AdoptionError(
        `the kept database in volume ${kept.dataVolume} does not start (container ${kept.container} is ${status || "gone"}):\n` +
          `${logs.stdout}\n${logs.stderr}\n${setAsideCommand(kept)}`,
      );
    }
    sleepOneSecond();
  }
}

/** psql in the database container over its local socket, as the database user. */
function psql(kept: KeptDatabase, sql: string, doing: string): string {
  const run = docker(["exec", "-i", kept.container, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", kept.db.user, "-d", kept.db.name], { input: sql });
  if (!run.ok) {
    throw new AdoptionError(
      `cannot ${doing} in the kept database (volume ${kept.dataVolume}) over its container's local socket: ${run.stderr.split("\n").filter((l) => /ERROR|FATAL|error/.test(l)).join(" ") || run.stderr}\n${setAsideCommand(kept)}`,
    );
  }
  return run.stdout.split("\n").pop() ?? "";
}

/** Whether Directus set this database up (false: no Directus tables yet); throws when it has no admin of this clone's email. */
function findAdmin(kept: KeptDatabase): boolean {
  // psql's \if: a query naming a missing table fails even in a branch that is not taken
  const answer = psql(
    kept,
    [
      "SELECT to_regclass('public.directus_users') IS NOT NULL AS has_directus \\gset",
      "\\if :has_directus",
      `SELECT coalesce(max(CASE WHEN lower(email) = lower(${literal(kept.admin.email)}) THEN 'admin-found' END), 'users: ' || coalesce(string_agg(email, ', '), 'none')) FROM directus_users;`,
      "\\else",
      "SELECT 'no-directus-tables';",
      "\\endif",
    ].join("\n"),
    "look for the Directus admin",
  );
  if (answer === "no-directus-tables") return false;
  if (answer === "admin-found") return true;
  throw new AdoptionError(
    `the kept database (volume ${kept.dataVolume}) has no Directus user ${kept.admin.email} (${answer}); nothing was changed and its data is kept. ` +
      `Use one of its users: \`npm run pulumi -- config set adminEmail <email> --stack ${kept.stack}\`, then run this again.`,
  );
}

/** ALTER ROLE over the local socket; the statement is kept out of the server log. */
function setDatabasePassword(kept: KeptDatabase): void {
  psql(kept, `SET log_statement = 'none';\nALTER ROLE ${identifier(kept.db.user)} PASSWORD ${literal(kept.db.password)};`, `set the password of database user ${kept.db.user}`);
}

function setAdminPassword(kept: KeptDatabase): void {
  const env = (name: string, value: string) => ["-e", `${name}=${value}`];
  const run = docker(
    [
      "run", "--rm", "--network", `container:${kept.container}`, "--entrypoint", "sh",
      ...env("DB_CLIENT", "pg"), ...env("DB_HOST", "127.0.0.1"), ...env("DB_PORT", "5432"),
      ...env("DB_DATABASE", kept.db.name), ...env("DB_USER", kept.db.user), ...env("ADMIN_EMAIL", kept.admin.email), ...env("TELEMETRY", "false"),
      "-e", "DB_PASSWORD", "-e", "ADMIN_PASSWORD", "-e", "KEY", "-e", "SECRET",
      kept.directusImage,
      "-c", 'exec node cli.js users passwd --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"',
    ],
    { env: { DB_PASSWORD: kept.db.password, ADMIN_PASSWORD: kept.admin.password, KEY: kept.directus.key, SECRET: kept.directus.secret } },
  );
  if (!run.ok) {
    throw new AdoptionError(
      `\`directus users passwd\` (${kept.directusImage}) could not set the password of ${kept.admin.email} in the kept database (volume ${kept.dataVolume}): ` +
        `${(run.stderr || run.stdout).split("\n").slice(-3).join(" ")}\n${setAsideCommand(kept)}`,
    );
  }
}

/** The one command that keeps the data (a copy in backups/) and leaves an empty volume for a fresh database. */
export function setAsideCommand(kept: Pick<KeptDatabase, "dataVolume" | "image">, now = new Date()): string {
  const archive = `backups/${kept.dataVolume}-${now.toISOString().replace(/[-:]|\.\d+/g, "")}.tar.gz`;
  return (
    `To keep its data and start with a fresh database instead: ` +
    `\`docker run --rm --user root --entrypoint sh -v ${kept.dataVolume}:/kept -v "$PWD/backups":/backups ${kept.image} -c 'tar -C /kept -czf /${archive} . && find /kept -mindepth 1 -delete'\` ` +
    `(copies the volume's files to ${archive}, then empties it), then run this again.`
  );
}

const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

function sleepOneSecond(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}
