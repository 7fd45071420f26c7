/**
 * npm run seed -- [seed-file] [--dry-run] [--previous <old-seed-file>]
 * Loads a seed file into any Directus with the same engine the Pulumi DirectusSeed resource uses.
 * Env: DIRECTUS_URL, and DIRECTUS_TOKEN (admin static token) or DIRECTUS_ADMIN_EMAIL + DIRECTUS_ADMIN_PASSWORD.
 * Without --previous nothing is deleted: deletions need to know what the seed wanted before.
 */
import { parseArgs } from "node:util";
import { connectDirectus, type DirectusCredentials } from "../lib/directus-client";
import { seedDirectus } from "../lib/seed/apply";
import { loadSeedFile } from "../lib/seed/data";
import { SettingsError } from "../lib/db/settings";
import { DEFAULT_SEED_FILE } from "../lib/stack-config";

function readTarget(env: NodeJS.ProcessEnv): { url: string; credentials: DirectusCredentials } {
  const problems: string[] = [];
  if (!env.DIRECTUS_URL) problems.push("missing setting: DIRECTUS_URL (e.g. http://127.0.0.1:8055)");
  const hasLogin = env.DIRECTUS_ADMIN_EMAIL && env.DIRECTUS_ADMIN_PASSWORD;
  if (!env.DIRECTUS_TOKEN && !hasLogin) {
    problems.push("missing credentials: set DIRECTUS_TOKEN, or DIRECTUS_ADMIN_EMAIL and DIRECTUS_ADMIN_PASSWORD");
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const credentials: DirectusCredentials = env.DIRECTUS_TOKEN
    ? { token: env.DIRECTUS_TOKEN }
    : { email: env.DIRECTUS_ADMIN_EMAIL!, password: env.DIRECTUS_ADMIN_PASSWORD! };
  return { url: env.DIRECTUS_URL!, credentials };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { "dry-run": { type: "boolean", default: false }, previous: { type: "string" } },
  });
  const file = positionals[0] ?? DEFAULT_SEED_FILE;
  const desired = loadSeedFile(file);
  const previous = values.previous ? loadSeedFile(values.previous) : undefined;
  const { url, credentials } = readTarget(process.env);
  const client = await connectDirectus(url, credentials);
  const result = await seedDirectus({ client, desired, previous, dryRun: values["dry-run"], log: (line) => console.log(line) });
  console.log(values["dry-run"] ? "seed: dry run, nothing written" : `seed complete: ${result.writeRequests} write request(s)`);
}

main().catch((error: Error) => {
  console.error(`seed: ERROR ${error.message}`);
  process.exitCode = 1;
});
