/**
 * Stack benchmark, under the real engine (issue: the whole program under the real engine).
 *   P1: a cold `pulumi up` of the whole program to a seeded stack (images and plugins cached, fresh
 *       volumes) vs the same image build, containers and start-up script through plain `docker run`
 *       plus the same seed. Best of 3 each, and the ratio (target ≤ 1.2x).
 *   P2: the no-op second `pulumi up`: seconds, change count, and writes to the database and to
 *       Directus during it (rows inserted/updated/deleted in every table, directus_activity rows).
 *       Best of 3 (targets: 0 changes, ≤ 15 s, 0 writes).
 *   npx tsx bench/stack-bench.ts [runs]     writes bench/results/stack.json
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { freePort } from "../lib/free-port";
import { connectDirectus, seedDirectus } from "../lib/seed/apply";
import { loadSeedFile } from "../lib/seed/data";
import { changes, engineStack, run } from "../e2e/support";
import { readOutputs } from "../scripts/lib/stack";
import { startDockerStack } from "./plain-docker-stack";

const RUNS = Number(process.argv[2] ?? 3);
const log = (line: string) => console.log(`bench: ${line}`);
const secondsSince = (t: number) => Math.round((Date.now() - t) / 100) / 10;
const best = (xs: number[]) => Math.min(...xs);

/** Rows written anywhere in the database so far, and Directus activity rows (a login writes one). */
async function writeCounters(db: pg.ClientConfig): Promise<{ rows: number; activity: number }> {
  const client = new pg.Client(db);
  await client.connect();
  try {
    await client.query("SELECT pg_stat_force_next_flush()").catch(() => undefined);
    const { rows } = await client.query(
      "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int AS rows, (SELECT count(*)::int FROM directus_activity) AS activity FROM pg_stat_all_tables",
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { stack, project, secrets } = await engineStack("bench", { retainVolumes: "false", backupOnDestroy: "false" }, log);
  const p1Pulumi: number[] = [];
  const p2: { seconds: number; changes: number; rowsWritten: number; directusActivity: number }[] = [];

  for (let i = 1; i <= RUNS; i++) {
    await stack.destroy();
    let t = Date.now();
    await stack.up();
    p1Pulumi.push(secondsSince(t));
    log(`P1 pulumi up #${i}: ${p1Pulumi.at(-1)} s`);

    const outputs = await readOutputs(stack);
    const db = { host: outputs.databaseHost, port: outputs.databasePort, database: outputs.databaseName, user: outputs.databaseUser, password: secrets.dbPassword };
    // let the first boot's own writes (Directus start-up, stats) settle before counting
    await new Promise((r) => setTimeout(r, 3000));
    const before = await writeCounters(db);
    t = Date.now();
    const noop = await stack.up();
    const seconds = secondsSince(t);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await writeCounters(db);
    const changed = Object.values(changes(noop.summary.resourceChanges)).reduce((a, b) => a + b, 0);
    p2.push({ seconds, changes: changed, rowsWritten: after.rows - before.rows, directusActivity: after.activity - before.activity });
    log(`P2 no-op up #${i}: ${JSON.stringify(p2.at(-1))}`);
  }
  await stack.destroy();

  // The plain-Docker baseline: same image build (cached), same containers, same seed.
  const p1Plain: number[] = [];
  const seedItems = loadSeedFile(path.join(project, "seed/rally-albania-2026.yaml"));
  for (let i = 1; i <= RUNS; i++) {
    const t = Date.now();
    run("npm", ["run", "--silent", "build:image"], { cwd: project });
    run("docker", ["build", "-q", "-t", "trm-directus:bench-plain", "."], { cwd: project, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    const plain = startDockerStack({
      prefix: "trm-bench-plain",
      directusImage: "trm-directus:bench-plain",
      databaseImage: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all",
      dbPort: await freePort(),
      directusPort: await freePort(),
      dbPassword: secrets.dbPassword,
      adminEmail: "ci@trm.dev",
      adminPassword: secrets.adminPassword,
    });
    try {
      const client = await connectDirectus(plain.directusUrl, { email: "ci@trm.dev", password: secrets.adminPassword });
      await seedDirectus({ client, desired: seedItems });
      p1Plain.push(secondsSince(t));
      log(`P1 plain docker #${i}: ${p1Plain.at(-1)} s`);
    } finally {
      plain.remove();
    }
  }

  const bestNoop = p2.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const result = {
    date: new Date().toISOString(),
    runs: RUNS,
    p1: { pulumiUpSeconds: p1Pulumi, plainDockerSeconds: p1Plain, best: { pulumi: best(p1Pulumi), plain: best(p1Plain) }, ratio: +(best(p1Pulumi) / best(p1Plain)).toFixed(2), target: "≤ 1.2x" },
    p2: { runs: p2, best: bestNoop, target: "0 changes, ≤ 15 s, 0 writes" },
  };
  console.log("\n| measurement | best of " + RUNS + " | target |\n|---|---|---|");
  console.log(`| P1 cold pulumi up → seeded | ${result.p1.best.pulumi} s | |`);
  console.log(`| P1 plain docker run + seed | ${result.p1.best.plain} s | |`);
  console.log(`| P1 ratio | ${result.p1.ratio}x | ≤ 1.2x |`);
  console.log(`| P2 no-op up | ${bestNoop.seconds} s, ${bestNoop.changes} changes, ${bestNoop.rowsWritten} rows written, ${bestNoop.directusActivity} Directus activity | 0 changes, ≤ 15 s, 0 writes |`);
  const out = path.join(__dirname, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "stack.json"), JSON.stringify(result, null, 2) + "\n");
}

main().catch((error: Error) => {
  console.error(`bench: ERROR ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
