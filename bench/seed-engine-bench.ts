/**
 * The seed at event scale through the real Pulumi engine: a program with only the DirectusSeed
 * resource (as index.ts declares it), run inline through the Automation API with the project's
 * Pulumi CLI (offline/pulumi-toolchain.sh builds it; the dynamic provider needs no plugin) against
 * a fresh Directus 11.17.4 on PostgreSQL 16 (tools/harness; or the one DIRECTUS_URL,
 * DIRECTUS_ADMIN_EMAIL and DIRECTUS_ADMIN_PASSWORD name), with a local file backend. Measures the
 * first `up`, a no-op `up`, and the state file's size, and writes them into bench/results/seed.json
 * under `engine`.
 *   PULUMI_BIN=$(bash offline/pulumi-toolchain.sh) npx tsx bench/seed-engine-bench.ts [entries]
 */
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DirectusSeed } from "../components/seed";
import { loadSeedFile } from "../lib/seed/data";
import { startDirectusWithSchema } from "../tools/harness/directus";
import prepareMachine from "../tools/harness/machine-setup";
import { startPostgres } from "../tools/harness/postgres";
import { writeSeedFile } from "./make-seed";

const RESULTS = path.join(__dirname, "results", "seed.json");

function stateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json") && entry.parentPath.includes(`${path.sep}stacks`))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

interface Target {
  url: string;
  email: string;
  password: string;
}

/** The Directus named by the environment, or a throwaway one with the project's schema. */
async function withDirectus(run: (target: Target) => Promise<void>): Promise<void> {
  const { DIRECTUS_URL: url, DIRECTUS_ADMIN_EMAIL: email, DIRECTUS_ADMIN_PASSWORD: password } = process.env;
  if (url && email && password) return run({ url, email, password });
  prepareMachine();
  const pg = await startPostgres();
  try {
    const { directus } = await startDirectusWithSchema(pg);
    try {
      await run({ url: directus.url, email: directus.adminEmail, password: directus.adminPassword });
    } finally {
      await directus.stop();
    }
  } finally {
    await pg.stop();
  }
}

async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? 10000);
  const bin = process.env.PULUMI_BIN;
  if (!bin) throw new Error("set PULUMI_BIN to the Pulumi CLI's bin folder: PULUMI_BIN=$(bash offline/pulumi-toolchain.sh)");
  await withDirectus((target) => bench(entries, bin, target));
}

async function bench(entries: number, bin: string, { url, email, password }: Target): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), "trm-seed-engine-"));
  const seedFile = path.join(work, `event-${entries}.yaml`);
  await writeSeedFile(entries, seedFile);
  // the dynamic provider host loads @pulumi/pulumi from the program's folder
  symlinkSync(path.join(__dirname, "..", "node_modules"), path.join(work, "node_modules"));
  const backend = path.join(work, "backend");
  mkdirSync(backend);
  const program = async () => {
    const seed = new DirectusSeed("seed", { url, credentials: pulumi.secret({ email, password }), items: loadSeedFile(seedFile), source: seedFile });
    return { counts: seed.counts };
  };
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin), skipVersionCheck: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "bench", projectName: "trm-seed-bench", program },
    {
      pulumiCommand,
      workDir: work,
      projectSettings: { name: "trm-seed-bench", runtime: "nodejs", backend: { url: `file://${backend}` } },
      envVars: { PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_HOME: path.join(work, "home") },
    },
  );
  const lines: string[] = [];
  const up = async () => {
    const started = performance.now();
    const result = await stack.up({ onOutput: (out) => lines.push(out) });
    return { seconds: Math.round((performance.now() - started) / 100) / 10, summary: result.summary.resourceChanges };
  };
  const first = await up();
  const noop = await up();
  const [stateFile] = stateFiles(backend);
  const stateBytes = statSync(stateFile).size;
  const output = lines.join("");
  const result = {
    entries,
    items: 18 * entries + 6,
    firstUpSeconds: first.seconds,
    firstUpChanges: first.summary,
    noopUpSeconds: noop.seconds,
    noopUpChanges: noop.summary,
    stateBytes,
    progressLinesShown: (output.match(/seed: \S+ \d+\/\d+ created/g) ?? []).length,
    loadAverage: os.loadavg()[0],
    measuredAt: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(path.join(work, "up-output.txt"), output);
  console.log(`engine output: ${path.join(work, "up-output.txt")}`);
  const results = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : {};
  writeFileSync(RESULTS, JSON.stringify({ ...results, engine: result }, null, 2) + "\n");
}

if (require.main === module) main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
