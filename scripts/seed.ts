/**
 * npm run seed -- [seed-file] [--dry-run] [--previous <old-seed-file>] [--concurrency N] [--batch N]
 * Loads a seed file into any Directus with the same engine the Pulumi DirectusSeed resource uses.
 * Env: DIRECTUS_URL, and DIRECTUS_TOKEN (admin static token) or DIRECTUS_ADMIN_EMAIL + DIRECTUS_ADMIN_PASSWORD;
 * MAX_PAYLOAD_SIZE: the target Directus's own setting (default Directus's 1mb), so no request exceeds it.
 * Without --previous nothing is deleted: deletions need to know what the seed wanted before.
 */
import { parseArgs } from "node:util";
import { connectDirectus, type DirectusCredentials } from "../lib/directus-client";
import { seedDirectus } from "../lib/seed/apply";
import { loadSeedFile } from "../lib/seed/data";
import { collectGarbage } from "../lib/seed/memory";
import { SettingsError } from "../lib/db/settings";
import { DEFAULT_MAX_ITEMS, DIRECTUS_DEFAULT_MAX_PAYLOAD_SIZE, parseByteSize } from "../lib/seed/requests";
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

function positiveInteger(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new SettingsError([`${option} ${value}: must be a whole number of at least 1`]);
  return n;
}

async function main(): Promise<void> {
  const started = performance.now();
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean", default: false },
      previous: { type: "string" },
      concurrency: { type: "string" },
      batch: { type: "string" },
    },
  });
  const file = positionals[0] ?? DEFAULT_SEED_FILE;
  const limits = {
    maxBodyBytes: parseByteSize(process.env.MAX_PAYLOAD_SIZE || DIRECTUS_DEFAULT_MAX_PAYLOAD_SIZE),
    maxItems: positiveInteger(values.batch, "--batch", DEFAULT_MAX_ITEMS),
  };
  const concurrency = values.concurrency === undefined ? undefined : positiveInteger(values.concurrency, "--concurrency", 1);
  const { url, credentials } = readTarget(process.env);
  const desired = loadSeedFile(file);
  const previous = values.previous ? loadSeedFile(values.previous) : undefined;
  collectGarbage();
  console.log(`seed: ${file} loaded and checked in ${seconds(started)} s`);
  const client = await connectDirectus(url, credentials);
  const result = await seedDirectus({ client, desired, previous, dryRun: values["dry-run"], limits, concurrency, log: (line) => console.log(line) });
  const rss = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(values["dry-run"] ? `seed: dry run, nothing written (${seconds(started)} s)` :
    `seed complete: ${result.writeRequests} write request(s) in ${seconds(started)} s, peak RSS ${rss} MB`);
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

main().catch((error: Error) => {
  console.error(`seed: ERROR ${error.message}`);
  process.exitCode = 1;
});
