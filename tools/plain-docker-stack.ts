/**
 * The stack's two containers started with plain `docker run`, exactly as the Pulumi components
 * configure them (network alias db, PGDATA volume, TCP healthcheck, --init, the same env and
 * start-up script): the plain-Docker baseline of the stack benchmark, and the containers the
 * engine e2e runs the project's dynamic resources against (no provider plugin needed).
 */
import { DATABASE_ALIAS, PGDATA } from "../components/database";
import { DIRECTUS_HEALTHCHECK } from "../lib/compose";
import { docker as dockerCli, dockerOrThrow, waitHealthy } from "../scripts/lib/docker";

export interface DockerStackOptions {
  prefix: string;
  directusImage: string;
  databaseImage: string;
  dbPort: number;
  directusPort: number;
  dbPassword: string;
  adminEmail: string;
  adminPassword: string;
}

export interface DockerStack {
  directusUrl: string;
  db: { host: string; port: number; database: string; user: string; password: string };
  /** Seconds from the first `docker run` until both containers were healthy. */
  secondsToHealthy: number;
  remove(): void;
}

const docker = (args: string[], allowFailure = false): string => (allowFailure ? dockerCli(args).stdout : dockerOrThrow(args));

export function startDockerStack(o: DockerStackOptions): DockerStack {
  const names = { net: `${o.prefix}-net`, data: `${o.prefix}-pgdata`, uploads: `${o.prefix}-uploads`, db: `${o.prefix}-db`, directus: `${o.prefix}-directus` };
  const remove = () => {
    docker(["rm", "-f", names.directus, names.db], true);
    docker(["network", "rm", names.net], true);
    docker(["volume", "rm", names.data, names.uploads], true);
  };
  remove();
  const started = Date.now();
  docker(["network", "create", names.net]);
  docker([
    "run", "-d", "--name", names.db, "--network", names.net, "--network-alias", DATABASE_ALIAS,
    "-v", `${names.data}:${PGDATA}`, "-p", `127.0.0.1:${o.dbPort}:5432`,
    "-e", "POSTGRES_DB=directus", "-e", "POSTGRES_USER=directus", "-e", `POSTGRES_PASSWORD=${o.dbPassword}`,
    "-e", `PGDATA=${PGDATA}`, "-e", "TIMESCALEDB_TELEMETRY=off",
    "--health-cmd", "pg_isready -h 127.0.0.1 -U directus -d directus", "--health-interval", "2s", "--health-retries", "5", "--health-start-period", "300s",
    o.databaseImage,
  ]);
  waitHealthy(names.db, 300);
  docker([
    "run", "-d", "--init", "--name", names.directus, "--network", names.net,
    "-v", `${names.uploads}:/directus/uploads`, "-p", `127.0.0.1:${o.directusPort}:8055`,
    "-e", "DB_CLIENT=pg", "-e", `DB_HOST=${DATABASE_ALIAS}`, "-e", "DB_PORT=5432", "-e", "DB_DATABASE=directus", "-e", "DB_USER=directus",
    "-e", `DB_PASSWORD=${o.dbPassword}`, "-e", `KEY=${"k".repeat(32)}`, "-e", `SECRET=${"s".repeat(32)}`,
    "-e", `ADMIN_EMAIL=${o.adminEmail}`, "-e", `ADMIN_PASSWORD=${o.adminPassword}`,
    "-e", `PUBLIC_URL=http://localhost:${o.directusPort}`, "-e", "TELEMETRY=false",
    "--health-cmd", DIRECTUS_HEALTHCHECK.slice(1).map((a) => (a.includes(" ") ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(" "),
    "--health-interval", "3s", "--health-retries", "5", "--health-start-period", "600s",
    o.directusImage,
  ]);
  waitHealthy(names.directus, 600);
  return {
    directusUrl: `http://127.0.0.1:${o.directusPort}`,
    db: { host: "127.0.0.1", port: o.dbPort, database: "directus", user: "directus", password: o.dbPassword },
    secondsToHealthy: Math.round((Date.now() - started) / 100) / 10,
    remove,
  };
}
