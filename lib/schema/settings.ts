/** Settings of the schema tooling, from the environment; every problem names its variable. */
import { SettingsError } from "../db/settings";
import { SCHEMA_APPLY_MODES, type SchemaApplyMode } from "./directus-cli";
import type { DirectusConnection } from "./rest";

/** DIRECTUS_URL plus DIRECTUS_TOKEN, or DIRECTUS_ADMIN_EMAIL + DIRECTUS_ADMIN_PASSWORD. */
export function readDirectusConnection(env: NodeJS.ProcessEnv): DirectusConnection {
  const problems: string[] = [];
  const url = env.DIRECTUS_URL;
  if (!url) problems.push("missing setting: DIRECTUS_URL (e.g. http://127.0.0.1:8055)");
  else if (!/^https?:\/\/[^/]+/.test(url)) problems.push(`DIRECTUS_URL must be an http(s) URL, got "${url}"`);
  const token = env.DIRECTUS_TOKEN;
  const email = env.DIRECTUS_ADMIN_EMAIL;
  const password = env.DIRECTUS_ADMIN_PASSWORD;
  if (!token && !(email && password)) {
    const missing = [!email && "DIRECTUS_ADMIN_EMAIL", !password && "DIRECTUS_ADMIN_PASSWORD"].filter(Boolean).join(", ");
    problems.push(`missing credentials: set DIRECTUS_TOKEN (an admin's static token), or ${missing}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const base = url!.replace(/\/+$/, "");
  return token ? { url: base, token } : { url: base, email: email!, password: password! };
}

/** `--allow-deletions` or SCHEMA_ALLOW_DELETIONS=true|false (1|0 too). */
export function readAllowDeletions(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (argv.includes("--allow-deletions")) return true;
  return readBoolean(env, "SCHEMA_ALLOW_DELETIONS", false);
}

/** SCHEMA_APPLY_MODE: apply (default), dry-run or skip. */
export function readApplyMode(env: NodeJS.ProcessEnv, key = "SCHEMA_APPLY_MODE"): SchemaApplyMode {
  const raw = env[key];
  if (raw === undefined || raw === "") return "apply";
  if ((SCHEMA_APPLY_MODES as readonly string[]).includes(raw)) return raw as SchemaApplyMode;
  throw new SettingsError([`${key} must be one of ${SCHEMA_APPLY_MODES.join(", ")}, got "${raw}"`]);
}

export function readBoolean(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  if (/^(true|1)$/i.test(raw)) return true;
  if (/^(false|0)$/i.test(raw)) return false;
  throw new SettingsError([`${key} must be true or false, got "${raw}"`]);
}
