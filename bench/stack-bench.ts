/**
 * Stack benchmark, under the real engine (issue: the whole program under the real engine).
 *   P1: a cold `pulumi up` of the whole program to a seeded stack (images and plugins cached, fresh
 *       volumes) vs the same image build, containers and start-up script through plain `docker run`
 *       plus the same seed, each container awaited as the program awaits it (tools/plain-docker-stack.ts);
 *       also with each awaited on Docker's health status (how this baseline waited before ServiceReady).
 *       Best of 3 each, and the ratios (target ≤ 1.2x).
 *   P2: the no-op second `pulumi up`: seconds, change count, and what the program wrote during it:
 *       rows inserted/updated/deleted in the tables it can write (`public`: the collections, the
 *       directus_* tables, migrations_applied, positions), named per table, and directus_activity
 *       rows. Excluded: pg_catalog (autovacuum's ANALYZE writes pg_statistic right after a fresh
 *       `up`) and TimescaleDB's own schemas (its background jobs). Transaction ids are printed for
 *       information only: those same background writers take them too.
 *       Best of 3 (targets: 0 changes, ≤ 15 s, 0 rows written, 0 activity).
 *   npx tsx bench/stack-bench.ts [runs]     writes bench/results/stack.json
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePorts } from "../lib/free-port";
import { connectDirectus } from "../lib/directus-client";
import { seedDirectus } from "../lib/seed/apply";
import { loadSeedFile } from "../lib/seed/data";
import { changes, engineRun, engineStack, run } from "../e2e/support";
import { skipUnlessPluginsInstalled } from "../scripts/require-plugins";
import { readOutputs } from "../scripts/lib/stack";
import { startDockerStack } from "../tools/plain-docker-stack";

const RUNS = Number(process.argv[2] ?? 3);
const log = (line: string) => console.log(`bench: ${line}`);
const secondsSince = (t: number) => Math.round((Date.now() - t) / 100) / 10;
const best = (xs: number[]) => Math.min(...xs);

/** Tables the program can write: everything in `public`. */
const PROGRAM_TABLES = "schemaname = 'public'";

/**
 * What has been written so far: rows inserted/updated/deleted per table the program can write
 * (pg_stat_user_tables), Directus activity rows (a login writes one), and transaction ids handed
 * out (background writers take them too). A backend reports its table counters up to 10 s after it
 * goes idle, so callers let that pass first.
 */
async function writeCounters(db: pg.ClientConfig): Promise<{ rowsByTable: Record<string, number>; activity: number; xids: number }> {
  const client = new pg.Client(db);
  await client.connect();
  try {
    const tables = await client.query<{ name: string; rows: number }>(
      `SELECT relname AS name, (n_tup_ins + n_tup_upd + n_tup_del)::int AS rows FROM pg_stat_user_tables WHERE ${PROGRAM_TABLES}`,
    );
    const { rows } = await client.query(
      `SELECT (SELECT count(*)::int FROM directus_activity) AS activity, txid_snapshot_xmax(txid_current_snapshot())::text AS xids`,
    );
    return { rowsByTable: Object.fromEntries(tables.rows.map((t) => [t.name, t.rows])), activity: rows[0].activity, xids: Number(rows[0].xids) };
  } finally {
    await client.end();
  }
}

/** Rows written per table between two counters, only the tables that changed. */
function rowsWrittenBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([table, rows]) => [table, rows - (before[table] ?? 0)] as const)
      .filter(([, rows]) => rows !== 0),
  );
}

/** PostgreSQL flushes an idle backend's statistics after at most 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;
const settle = () => new Promise((r) => setTimeout(r, STATS_SETTLE_MS));

/** Seconds from the start of an `up` to when each resource started and finished, from the engine's events. */
class Timeline {
  private readonly at: Record<string, { start?: number; done?: number }> = {};
  private first?: number;
  private program?: number;

  constructor(
    private readonly started: number,
    events: (EngineEvent & { receivedAt?: number })[],
    private readonly total: number,
  ) {
    for (const event of events) this.record(event, event.receivedAt ?? started);
  }

  private record(event: EngineEvent, receivedAt: number): void {
    const now = (receivedAt - this.started) / 1000;
    const start = event.resourcePreEvent?.metadata;
    const done = event.resOutputsEvent?.metadata;
    if (start?.type === "pulumi:pulumi:Stack") this.program ??= now;
    if (start && start.type !== "pulumi:pulumi:Stack") {
      this.first ??= now;
      (this.at[name(start.urn)] ??= {}).start = now;
    }
    if (done) (this.at[name(done.urn)] ??= {}).done = now;
  }

  /**
   * The critical path, in order: engine and program start, then the resources that wait on each other,
   * then the engine's end. `ownCost` is everything but the containers' own start-up (created → healthy)
   * and the seed, which plain Docker pays too: the engine, the program, the plugins, the serial steps.
   */
  phases(): Record<string, number> {
    const at = (resource: string, edge: "start" | "done") => this.at[resource]?.[edge] ?? 0;
    const took = (resource: string) => round(at(resource, "done") - at(resource, "start"));
    const phases = {
      // npm, ts-node, the script's CLI calls, the engine's start: until the program registers its stack
      untilProgram: round(this.program ?? 0),
      engineAndProgram: round(this.first ?? 0),
      network: took("database-network"),
      // created → serving (components/service-ready.ts), as the plain baseline waits for it
      databaseHealthy: round(at("database-ready", "done") - at("database-container", "start")),
      extensionsAndPreSchema: round(at("pre-schema-migrations", "done") - at("database-ready", "done")),
      directusHealthy: round(at("directus-ready", "done") - at("directus-container", "start")),
      postSchema: round(at("seed", "start") - at("directus-ready", "done")),
      seed: took("seed"),
      engineEnd: round(this.total - at("seed", "done")),
    };
    return { ...phases, ownCost: round(this.total - phases.databaseHealthy - phases.directusHealthy - phases.seed) };
  }
}
const name = (urn: string) => urn.split("::").pop()!;
const round = (seconds: number) => Math.round(seconds * 10) / 10;

async function main(): Promise<void> {
  if (await skipUnlessPluginsInstalled("stack benchmark")) return;
  const target = await engineStack("bench", { retainVolumes: "false", backupOnDestroy: "false" }, log);
  const { stack, project, secrets } = target;
  const p1Pulumi: number[] = [];
  const p2: { seconds: number; changes: number; rowsWritten: number; rowsWrittenByTable: Record<string, number>; directusActivity: number; backgroundTransactionIds: number }[] = [];

  const phases: Record<string, number>[] = [];
  const loadAverageAtStart = round(os.loadavg()[0]);
  for (let i = 1; i <= RUNS; i++) {
    await engineRun(target, "destroy");
    let t = Date.now();
    const up = await engineRun(target, "up");
    p1Pulumi.push(secondsSince(t));
    phases.push(new Timeline(t, up.events, p1Pulumi.at(-1)!).phases());
    log(`P1 pulumi up #${i}: ${p1Pulumi.at(-1)} s ${JSON.stringify(phases.at(-1))}`);

    const outputs = await readOutputs(stack);
    const db = { host: outputs.databaseHost, port: outputs.databasePort, database: outputs.databaseName, user: outputs.databaseUser, password: secrets.dbPassword };
    await settle(); // the first up's own writes are counted before, not during, the no-op
    const before = await writeCounters(db);
    t = Date.now();
    const noop = await engineRun(target, "up");
    const seconds = secondsSince(t);
    await settle();
    const after = await writeCounters(db);
    const changed = Object.values(changes(noop.changeSummary)).reduce((a, b) => a + b, 0);
    const byTable = rowsWrittenBetween(before.rowsByTable, after.rowsByTable);
    p2.push({
      seconds,
      changes: changed,
      rowsWritten: Object.values(byTable).reduce((a, b) => a + b, 0),
      rowsWrittenByTable: byTable,
      directusActivity: after.activity - before.activity,
      backgroundTransactionIds: after.xids - before.xids,
    });
    log(`P2 no-op up #${i}: ${JSON.stringify(p2.at(-1))}`);
  }
  await engineRun(target, "destroy");

  // The plain-Docker baseline: same image build (cached), same containers, same seed; each container
  // awaited as the program awaits it, and (for the figure before ServiceReady) on Docker's health status.
  const p1Plain: number[] = [];
  const plainPhases: Record<string, number>[] = [];
  const p1PlainDockerHealth: number[] = [];
  const seedItems = loadSeedFile(path.join(project, "seed/rally-albania-2026.yaml"));
  const plainRuns = Array.from({ length: RUNS }, () => ["service", "docker-health"] as const).flat();
  for (const [index, waitFor] of plainRuns.entries()) {
    const i = Math.floor(index / 2) + 1;
    const t = Date.now();
    run("npm", ["run", "--silent", "build:image"], { cwd: project });
    run("docker", ["build", "-q", "-t", "trm-directus:bench-plain", "."], { cwd: project, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    const built = secondsSince(t);
    const [dbPort, directusPort] = await freePorts(2);
    const plain = await startDockerStack({
      prefix: "trm-bench-plain",
      directusImage: "trm-directus:bench-plain",
      databaseImage: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all",
      dbPort,
      directusPort,
      dbPassword: secrets.dbPassword,
      adminEmail: "ci@trm.dev",
      adminPassword: secrets.adminPassword,
      waitFor,
    });
    try {
      const client = await connectDirectus(plain.directusUrl, { email: "ci@trm.dev", password: secrets.adminPassword });
      const seeding = Date.now();
      await seedDirectus({ client, desired: seedItems });
      const phases = { imageBuildCached: built, containersHealthy: plain.secondsToHealthy, seed: secondsSince(seeding) };
      if (waitFor === "docker-health") p1PlainDockerHealth.push(secondsSince(t));
      else (p1Plain.push(secondsSince(t)), plainPhases.push(phases));
      log(`P1 plain docker (${waitFor}) #${i}: ${secondsSince(t)} s ${JSON.stringify(phases)}`);
    } finally {
      plain.remove();
    }
  }

  const bestNoop = p2.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const bestUp = p1Pulumi.indexOf(best(p1Pulumi));
  const result = {
    date: new Date().toISOString(),
    runs: RUNS,
    loadAverageAtStart,
    loadAverageAtEnd: round(os.loadavg()[0]),
    cores: os.cpus().length,
    p1: {
      pulumiUpSeconds: p1Pulumi,
      plainDockerSeconds: p1Plain,
      best: { pulumi: best(p1Pulumi), plain: best(p1Plain) },
      ratio: +(best(p1Pulumi) / best(p1Plain)).toFixed(2),
      target: "≤ 1.2x",
      plainWaitingOnDockerHealthSeconds: p1PlainDockerHealth,
      ratioToPlainWaitingOnDockerHealth: +(best(p1Pulumi) / best(p1PlainDockerHealth)).toFixed(2),
      pulumiPhasesOfBest: phases[bestUp],
      plainPhasesOfBest: plainPhases[p1Plain.indexOf(best(p1Plain))],
      ownCostOfBest: phases[bestUp].ownCost,
      ownCostTarget: "≤ 3 s",
    },
    p2: {
      runs: p2,
      best: bestNoop,
      target: "0 changes, ≤ 15 s, 0 rows written, 0 activity",
      counted: "rows inserted/updated/deleted in schema public (collections, directus_*, migrations_applied, positions); directus_activity rows",
      excluded: "pg_catalog (autovacuum ANALYZE), TimescaleDB's schemas (its jobs); transaction ids are informational (background writers take them)",
    },
  };
  console.log("\n| measurement | best of " + RUNS + " | target |\n|---|---|---|");
  console.log(`| P1 cold pulumi up → seeded | ${result.p1.best.pulumi} s | |`);
  console.log(`| P1 plain docker run + seed, each container awaited as the program does | ${result.p1.best.plain} s | |`);
  console.log(`| P1 ratio | ${result.p1.ratio}x | ≤ 1.2x |`);
  console.log(`| P1 plain docker run + seed, waiting on Docker's health status | ${best(p1PlainDockerHealth)} s (ratio ${result.p1.ratioToPlainWaitingOnDockerHealth}x) | |`);
  console.log(`| P1 our own cost (engine, program, plugins, serial steps) | ${phases[bestUp].ownCost} s (${phases[bestUp].untilProgram} s of it before the program runs) | ≤ 3 s |`);
  console.log(`| P1 pulumi up, where the time goes (s) | ${Object.entries(phases[bestUp]).filter(([k]) => k !== "ownCost" && k !== "untilProgram").map(([k, v]) => `${k} ${v}`).join(", ")} | |`);
  console.log(`load average (1 min): ${loadAverageAtStart} at the start, ${result.loadAverageAtEnd} at the end, ${result.cores} cores`);
  console.log(
    `| P2 no-op up | ${bestNoop.seconds} s, ${bestNoop.changes} changes, ${bestNoop.rowsWritten} rows written in public ` +
      `${JSON.stringify(bestNoop.rowsWrittenByTable)}, ${bestNoop.directusActivity} Directus activity ` +
      `(${bestNoop.backgroundTransactionIds} transaction ids taken meanwhile, by anyone) | 0 changes, ≤ 15 s, 0 rows, 0 activity |`,
  );
  const out = path.join(__dirname, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "stack.json"), JSON.stringify(result, null, 2) + "\n");
}

main().catch((error: Error) => {
  console.error(`bench: ERROR ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
