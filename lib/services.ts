/**
 * The stack's two containers, described once: image, env (each entry flagged secret or not),
 * healthcheck, volumes, published ports with their host interface, init, restart policy, start
 * order and network alias. The Pulumi components (lib/container-health.ts), the compose text
 * Portainer runs (lib/compose.ts), the plain-Docker stack of the engine e2e and the benchmarks
 * (tools/plain-docker-stack.ts) and the CI compose boot are renderings of this description.
 *
 * Values that come from the stack's settings are written as `${NAME}` references to `settings`:
 * compose keeps the reference (Portainer's env list holds the value, so secrets never enter the
 * compose text); Pulumi and plain Docker substitute the value (resolveEnv / substitute).
 */

/** The timescaledb-ha image's data directory: PGDATA and the volume must both point exactly here. */
export const PGDATA = "/home/postgres/pgdata/data";
/** Name other containers on the stack's network use for the database. */
export const DATABASE_ALIAS = "db";
export const DIRECTUS_PORT = 8055;
export const DATABASE_PORT = 5432;

/** Healthy when /server/health says ok; uses the image's own Node (no curl/wget assumed). */
export const DIRECTUS_HEALTHCHECK = [
  "CMD",
  "node",
  "-e",
  "fetch('http://127.0.0.1:8055/server/health').then(r => r.json()).then(h => process.exit(h.status === 'ok' ? 0 : 1), () => process.exit(1))",
];

/** One value of the stack's settings, by the env name Portainer's env list gives it. */
export interface Setting<S> {
  name: string;
  value: S | string;
  secret: boolean;
}

export interface EnvEntry {
  name: string;
  /** Literal text with `${SETTING}` references. */
  value: string;
  /** True when the value references a secret setting. */
  secret: boolean;
}

export interface Healthcheck {
  /** Docker's exec form ("CMD", ...); arguments may reference settings. */
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  /** Failures before this do not count: the first boot (init, migrations) takes this long at most. */
  startPeriodSeconds: number;
}

export interface VolumeMount {
  /** The volume's short name; physical names add the stack's prefix (compose: its project name). */
  volume: string;
  target: string;
}

export interface PortBinding {
  containerPort: number;
  hostPort: number;
  hostIp: string;
  /**
   * Published only for the Pulumi program's host-side steps (extensions, SQL migrations): a
   * Portainer stack runs none of them, so its compose text leaves the port closed.
   */
  hostStepsOnly: boolean;
}

export interface ServiceDescription {
  /** The compose service name; containers are named <prefix>-<name>. */
  name: "db" | "directus";
  image: string;
  env: EnvEntry[];
  healthcheck: Healthcheck;
  volumes: VolumeMount[];
  ports: PortBinding[];
  /** Run a tiny init as PID 1 (Directus under pm2 would ignore SIGTERM and `docker stop` would hang). */
  init: boolean;
  restart: "unless-stopped";
  /** Services that must be healthy before this one starts. */
  dependsOnHealthy: ServiceDescription["name"][];
  /** Names other containers on the stack's network reach it by. */
  aliases: string[];
}

export interface Services<S> {
  /** The values the env and healthchecks reference: Portainer's env list, in this order. */
  settings: Setting<S>[];
  db: ServiceDescription;
  directus: ServiceDescription;
}

/** What the description needs from a validated stack config (lib/stack-config.ts); S is the secrets' type. */
export interface ServicesConfig<S> {
  directusImage: string;
  database: { image: string; name: string; user: string; password: S; hostPort: number };
  directus: {
    hostPort: number;
    bindAddress: string;
    publicUrl: string;
    adminEmail: string;
    adminPassword: S;
    key: S;
    secret: S;
    schemaApplyMode: string;
    schemaAllowDeletions: boolean;
    projectOwner?: string;
  };
}

/** First boot runs migrations, bootstrap and the schema apply before Directus answers: 60-90 s seen. */
const DIRECTUS_FIRST_BOOT_SECONDS = 600;
const DATABASE_FIRST_BOOT_SECONDS = 300;
/**
 * Seconds between checks. A container counts as healthy only at a check, so everything waiting on it
 * (`pulumi up`, compose's depends_on, the scripts) waits up to one interval past the moment it is
 * ready. Docker ≥ 25 could probe faster only during the start period (`start_interval`); the engines
 * here (20.10) and Portainer's hosts may be older, so one interval serves both: short enough that a
 * first boot is seen within ~1 s, long enough that the probes (each a `docker exec`: a new process in
 * the container) stay a small steady cost. pg_isready is cheap; the Directus probe starts Node.
 */
const DATABASE_CHECK_INTERVAL_SECONDS = 1;
const DIRECTUS_CHECK_INTERVAL_SECONDS = 2;

export function describeServices<S>(config: ServicesConfig<S>): Services<S> {
  const { database: db, directus: d } = config;
  const settings: Setting<S>[] = [
    { name: "DB_DATABASE", value: db.name, secret: false },
    { name: "DB_USER", value: db.user, secret: false },
    { name: "DB_PASSWORD", value: db.password, secret: true },
    { name: "KEY", value: d.key, secret: true },
    { name: "SECRET", value: d.secret, secret: true },
    { name: "ADMIN_EMAIL", value: d.adminEmail, secret: false },
    { name: "ADMIN_PASSWORD", value: d.adminPassword, secret: true },
    { name: "PUBLIC_URL", value: d.publicUrl, secret: false },
    { name: "SCHEMA_APPLY_MODE", value: d.schemaApplyMode, secret: false },
    { name: "SCHEMA_ALLOW_DELETIONS", value: String(d.schemaAllowDeletions), secret: false },
    ...(d.projectOwner ? [{ name: "PROJECT_OWNER", value: d.projectOwner, secret: false }] : []),
  ];
  const secretNames = new Set(settings.filter((s) => s.secret).map((s) => s.name));
  const env = (entries: [string, string][]): EnvEntry[] =>
    entries.map(([name, value]) => ({ name, value, secret: references(value).some((r) => secretNames.has(r)) }));
  const fromSetting = (name: string): [string, string] => [name, ref(name)];

  const database: ServiceDescription = {
    name: "db",
    image: db.image,
    env: env([
      ["POSTGRES_DB", ref("DB_DATABASE")],
      ["POSTGRES_USER", ref("DB_USER")],
      ["POSTGRES_PASSWORD", ref("DB_PASSWORD")],
      ["PGDATA", PGDATA],
      ["TIMESCALEDB_TELEMETRY", "off"],
    ]),
    // Over TCP: during first boot the init-time temporary server answers on the socket only.
    healthcheck: {
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", ref("DB_USER"), "-d", ref("DB_DATABASE")],
      intervalSeconds: DATABASE_CHECK_INTERVAL_SECONDS,
      timeoutSeconds: 5,
      retries: 5,
      startPeriodSeconds: DATABASE_FIRST_BOOT_SECONDS,
    },
    volumes: [{ volume: "pgdata", target: PGDATA }],
    ports: [{ containerPort: DATABASE_PORT, hostPort: db.hostPort, hostIp: "127.0.0.1", hostStepsOnly: true }],
    init: false,
    restart: "unless-stopped",
    dependsOnHealthy: [],
    aliases: [DATABASE_ALIAS],
  };

  const directus: ServiceDescription = {
    name: "directus",
    image: config.directusImage,
    env: env([
      ["DB_CLIENT", "pg"],
      ["DB_HOST", DATABASE_ALIAS],
      ["DB_PORT", String(DATABASE_PORT)],
      ...["DB_DATABASE", "DB_USER", "DB_PASSWORD", "KEY", "SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD", "PUBLIC_URL"].map(fromSetting),
      ["TELEMETRY", "false"],
      ...["SCHEMA_APPLY_MODE", "SCHEMA_ALLOW_DELETIONS"].map(fromSetting),
      ...(d.projectOwner ? [fromSetting("PROJECT_OWNER")] : []),
    ]),
    healthcheck: {
      test: DIRECTUS_HEALTHCHECK,
      intervalSeconds: DIRECTUS_CHECK_INTERVAL_SECONDS,
      timeoutSeconds: 5,
      retries: 5,
      startPeriodSeconds: DIRECTUS_FIRST_BOOT_SECONDS,
    },
    volumes: [{ volume: "uploads", target: "/directus/uploads" }],
    ports: [{ containerPort: DIRECTUS_PORT, hostPort: d.hostPort, hostIp: d.bindAddress, hostStepsOnly: false }],
    init: true,
    restart: "unless-stopped",
    dependsOnHealthy: ["db"],
    aliases: [],
  };
  return { settings, db: database, directus };
}

/** The services in start order. */
export function inStartOrder<S>(services: Services<S>): ServiceDescription[] {
  return [services.db, services.directus];
}

/** `${NAME}`: a reference to a setting, as compose writes it. */
export const ref = (name: string) => `\${${name}}`;

const REFERENCE = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

/** The setting names a value references. */
export function references(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1]);
}

/** The text with each `${NAME}` replaced by the setting's value; an unknown name is an error. */
export function substitute(text: string, settings: Setting<string>[]): string {
  return text.replace(REFERENCE, (_, name: string) => {
    const setting = settings.find((s) => s.name === name);
    if (!setting) throw new Error(`service description: \${${name}} references no setting`);
    return setting.value;
  });
}

/** A service's env with every reference substituted, secret flags kept. */
export function resolveEnv(service: ServiceDescription, settings: Setting<string>[]): EnvEntry[] {
  return service.env.map((e) => ({ ...e, value: substitute(e.value, settings) }));
}

/** The healthcheck command with every reference substituted. */
export function resolveHealthTest(service: ServiceDescription, settings: Setting<string>[]): string[] {
  return service.healthcheck.test.map((arg) => substitute(arg, settings));
}

/** The host address a client on this machine uses for a port bound to `hostIp` (0.0.0.0: every interface). */
export function localAddress(hostIp: string): string {
  return hostIp === "0.0.0.0" ? "127.0.0.1" : hostIp;
}

/**
 * Whole seconds as Go's time.Duration.String() prints them ("2s", "5m0s", "1h0m0s"). The docker
 * provider reads a container's healthcheck back that way, so "300s" would differ from state on
 * every `pulumi up` and update the container each time.
 */
export function goDuration(totalSeconds: number): string {
  if (!Number.isInteger(totalSeconds) || totalSeconds < 0) throw new Error(`goDuration: ${totalSeconds} is not a whole number of seconds`);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
