/**
 * What the start-up's shortcuts need to know about the Directus install and its settings: where its
 * packages are, which version it is, and whether Directus could be reading settings that the
 * shortcuts do not (then they stand aside and the full step runs).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

/** A package folder as Directus's own cli.js in `directusDir` resolves it. */
export function directusPackageDir(directusDir: string, name: string): string {
  const require = createRequire(path.join(directusDir, "cli.js"));
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** "directus 11.17.4, @directus/api 35.2.0": a new image means new snapshot, diff and migration code. */
export function directusVersions(directusDir: string): string {
  return ["directus", "@directus/api"]
    .map((name) => {
      const manifest = JSON.parse(readFileSync(path.join(directusPackageDir(directusDir, name), "package.json"), "utf8")) as { version: string };
      return `${name} ${manifest.version}`;
    })
    .join(", ");
}

/**
 * Reasons the shortcuts cannot see what Directus sees: a config file (Directus then reads settings from
 * it, we read only the environment), another search path, a connection string, another client.
 * Empty: the shortcuts may decide.
 */
export function shortcutBlockers(env: NodeJS.ProcessEnv, directusDir: string): string[] {
  const blockers: string[] = [];
  const configFile = path.resolve(directusDir, env.CONFIG_PATH || ".env");
  if (existsSync(configFile)) blockers.push(`Directus reads settings from ${configFile}`);
  if (env.DB_CLIENT !== "pg") blockers.push(`DB_CLIENT is ${env.DB_CLIENT ? `"${env.DB_CLIENT}"` : "unset"}, not pg`);
  if (env.DB_SEARCH_PATH) blockers.push("DB_SEARCH_PATH is set");
  if (env.DB_CONNECTION_STRING) blockers.push("DB_CONNECTION_STRING is set");
  return blockers;
}
