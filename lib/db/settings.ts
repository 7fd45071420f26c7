/** Connection settings, read from the variable names Directus itself uses so one env drives both. */
export interface DbSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export const DB_ENV_KEYS = ["DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USER", "DB_PASSWORD"] as const;

export class SettingsError extends Error {
  readonly exitCode = 1;
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} problems with the settings:\n${problems.map((p) => `- ${p}`).join("\n")}`,
    );
    this.name = "SettingsError";
  }
}

/** Reads DB_* from an environment, reporting every missing or malformed variable at once. */
export function readDbSettings(env: NodeJS.ProcessEnv): DbSettings {
  const problems: string[] = [];
  const missing = DB_ENV_KEYS.filter((key) => !env[key]);
  if (missing.length > 0) problems.push(`missing setting${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);

  const port = Number(env.DB_PORT);
  if (env.DB_PORT && !isPort(port)) problems.push(`DB_PORT must be a port number (1-65535), got "${env.DB_PORT}"`);

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    host: env.DB_HOST!,
    port,
    database: env.DB_DATABASE!,
    user: env.DB_USER!,
    password: env.DB_PASSWORD!,
  };
}

/** Reads a positive number of seconds, e.g. DB_INIT_TIMEOUT_SECONDS, falling back to a default. */
export function readSeconds(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new SettingsError([`${key} must be a positive number of seconds, got "${raw}"`]);
  }
  return seconds;
}

/** The DB_* variables Directus (and our CLIs) read, for a child process's environment. */
export function dbEnv(db: DbSettings): Record<string, string> {
  return {
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_DATABASE: db.database,
    DB_USER: db.user,
    DB_PASSWORD: db.password,
  };
}

/** A printable description of where we connect: never includes the password. */
export function describeDb(settings: DbSettings): string {
  return `postgres://${settings.user}@${settings.host}:${settings.port}/${settings.database}`;
}

export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}
