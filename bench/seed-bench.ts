/**
 * Seed benchmark at event scale (issue #31): for each size, a generated event file in the public
 * seed format (bench/make-seed.ts: 18 items per entry), a fresh Directus 11.17.4 on PostgreSQL 16
 * (tools/harness), and the seed CLI exactly as `npm run stack -- seed FILE` runs it (scripts/seed.ts
 * in its own process): a fresh seed, then a re-run of the same file (a no-op). Prints and records
 * wall time, items per second, write requests and the seed process's peak RSS, and the ratio of
 * seconds per item from the smallest to the largest size (1.0 = linear; below = better than linear).
 *   npx tsx bench/seed-bench.ts [entries...]        (default: 1000 5000 10000)
 * Writes bench/results/seed.json (sizes measured in this run replace the same sizes there).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDirectusWithSchema } from "../tools/harness/directus";
import prepareMachine from "../tools/harness/machine-setup";
import { startPostgres } from "../tools/harness/postgres";
import { writeSeedFile } from "./make-seed";

const ROOT = path.resolve(__dirname, "..");
const RESULTS = path.join(__dirname, "results", "seed.json");

export interface SeedRun {
  wallSeconds: number;
  itemsPerSecond: number;
  writeRequests: number;
  peakRssMb: number;
  loadAverage: number;
}

interface SizeResult {
  entries: number;
  items: number;
  fresh: SeedRun;
  noop: SeedRun;
  measuredAt: string;
}

/** Runs the seed CLI in its own process, as `npm run stack -- seed FILE` does. */
function runSeedCli(file: string, env: Record<string, string>, items: number): Promise<SeedRun> {
  const started = performance.now();
  const loadAverage = os.loadavg()[0];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/seed.ts", file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()).length > 1e6 && (out = out.slice(-1e5)));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      const done = /seed complete: (\d+) write request\(s\) in [\d.]+ s, peak RSS (\d+) MB/.exec(out);
      if (code !== 0 || !done) return reject(new Error(`seed CLI failed (exit ${code}):\n${err}\n${out.slice(-3000)}`));
      const writeRequests = Number(done[1]);
      resolve({ wallSeconds: round(wallSeconds), itemsPerSecond: writeRequests ? Math.round(items / wallSeconds) : 0, writeRequests, peakRssMb: Number(done[2]), loadAverage: round(loadAverage) });
    });
  });
}

async function benchSize(entries: number, dir: string): Promise<SizeResult> {
  const file = path.join(dir, `event-${entries}.yaml`);
  await writeSeedFile(entries, file);
  const items = 18 * entries + 6;
  const pg = await startPostgres();
  try {
    const { directus } = await startDirectusWithSchema(pg);
    try {
      const env = { DIRECTUS_URL: directus.url, DIRECTUS_ADMIN_EMAIL: directus.adminEmail, DIRECTUS_ADMIN_PASSWORD: directus.adminPassword };
      const fresh = await runSeedCli(file, env, items);
      const noop = await runSeedCli(file, env, items);
      return { entries, items, fresh, noop, measuredAt: new Date().toISOString() };
    } finally {
      await directus.stop();
    }
  } finally {
    await pg.stop();
  }
}

function summary(sizes: SizeResult[]) {
  const sorted = [...sizes].sort((a, b) => a.entries - b.entries);
  const [small, large] = [sorted[0], sorted[sorted.length - 1]];
  const perItem = (r: SizeResult) => r.fresh.wallSeconds / r.items;
  return {
    sizes: sorted,
    ratioSecondsPerItemLargestToSmallest: sorted.length > 1 ? round(perItem(large) / perItem(small)) : null,
    targets: { freshSeconds10000: 180, noopSeconds10000: 30, peakRssMb: 512 },
    machine: { cpus: os.cpus().length, note: "a shared 2-core machine: loadAverage is the 1-minute load when each run started" },
  };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  prepareMachine(); // as `npm test` does: postgres OS user when root, the TimescaleDB double
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-seed-bench-"));
  const recorded = () => (existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { sizes?: SizeResult[]; engine?: unknown }) : {});
  const previous = recorded().sizes ?? [];
  const results = new Map(previous.filter((r) => r.fresh).map((r) => [r.entries, r]));
  for (const entries of sizes.length > 0 ? sizes : [1000, 5000, 10000]) {
    const result = await benchSize(entries, dir);
    results.set(entries, result);
    const { fresh, noop } = result;
    console.log(`${entries} entries (${result.items} items): fresh ${fresh.wallSeconds} s, ${fresh.itemsPerSecond} items/s, ${fresh.writeRequests} requests, ` +
      `peak RSS ${fresh.peakRssMb} MB (load ${fresh.loadAverage}); no-op ${noop.wallSeconds} s, ${noop.writeRequests} writes, peak RSS ${noop.peakRssMb} MB`);
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    // bench/seed-engine-bench.ts records the `pulumi up` figures in the same file
    writeFileSync(RESULTS, JSON.stringify({ ...summary([...results.values()]), engine: recorded().engine }, null, 2) + "\n");
  }
  console.log(`ratio of seconds per item, largest to smallest size: ${summary([...results.values()]).ratioSecondsPerItemLargestToSmallest}`);
}

const round = (n: number) => Math.round(n * 100) / 100;

if (require.main === module) main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
