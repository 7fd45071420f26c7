/**
 * Boot benchmark (issue #21: our start-up adds at most 30% to the upstream image's own boot).
 * Runs the upstream image (`directus/directus:11.17.4` with its own CMD: bootstrap, then pm2-runtime)
 * and ours (built from this checkout) with the same environment against one database container:
 *   first boot    `docker run` on a fresh, empty database → /server/health answers 200
 *   warm restart  `docker start` of that container after a `docker stop` (the stop is timed apart,
 *                 not counted) → 200
 * Each round gives each image a fresh database, one first boot and the restart right after it (the
 * restart that follows a first boot, not a later, luckier one). The order alternates between rounds.
 * Best of N each, the ratios, and ours step by step from `docker logs -t` timestamps of the
 * `[trm-startup] ==> n/5` lines.
 *   npx tsx bench/boot-bench.ts [runs=3] [--label NAME] [--image TAG]
 * writes bench/results/boot.json (one entry per label); --image measures that image as "ours" instead of
 * building this checkout (to measure an earlier build again under the same conditions).
 * Targets: warm restart ≤ 1.3x upstream's, first boot ≤ 1.0x (issue #27; it was 1.6x).
 * Ours runs steps 2 and 3 in one process: "2 bootstrap" is from its start (Directus loaded once) to
 * the 3/5 line it prints, "3 schema" the rest of it.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describeServices, resolveEnv } from "../lib/services";
import { dockerRunArgs } from "../tools/plain-docker-stack";
import { freePort } from "../lib/free-port";
import { docker, dockerOrThrow, waitHealthy } from "../scripts/lib/docker";
import { ensureDocker, ensureImages, stackImages } from "../scripts/lib/machine";
import { REPO_ROOT } from "../scripts/lib/stack";

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const LABEL = option("--label") ?? "current";
/** --image TAG: measure an image built earlier (e.g. the one before a change) instead of building this checkout. */
const OUR_IMAGE = option("--image") ?? "trm-directus:bootbench";
const PREFIX = "trm-bootbench";
const HEALTH_TIMEOUT_MS = 300_000;
const TARGETS = { warmRestart: 1.3, firstBoot: 1.0 };

const log = (line: string) => console.log(`bench: ${line}`);
const round = (seconds: number) => Math.round(seconds * 100) / 100;

type Kind = "upstream" | "ours";
/** Seconds per step, in order. */
type Steps = Record<string, number>;
interface Boot {
  seconds: number;
  steps: Steps;
}
interface Round {
  firstBoot: Boot;
  warmRestart: Boot;
  stopSeconds: number;
}

interface Database {
  net: string;
  container: string;
  port: number;
  password: string;
  remove(): void;
}

/** One database container on its own network, as the stack runs it (alias db, PGDATA volume). */
function startDatabase(image: string, port: number): Database {
  const names = { net: `${PREFIX}-net`, data: `${PREFIX}-pgdata`, db: `${PREFIX}-db` };
  const password = randomBytes(16).toString("hex");
  const remove = () => {
    for (const kind of ["upstream", "ours"]) docker(["rm", "-f", `${PREFIX}-${kind}`]);
    docker(["rm", "-f", names.db]);
    docker(["network", "rm", names.net]);
    docker(["volume", "rm", names.data]);
  };
  remove();
  dockerOrThrow(["network", "create", names.net]);
  const services = benchServices({ image, password, database: "directus", hostPort: port, directusImage: "unused" });
  dockerOrThrow(dockerRunArgs(services.db, services.settings, PREFIX, names.net));
  waitHealthy(names.db, services.db.healthcheck.startPeriodSeconds);
  return { net: names.net, container: names.db, port, password, remove };
}

async function sql(db: Database, statement: string): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port: db.port, user: "directus", password: db.password, database: "directus" });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The stack's service description (lib/services.ts) with throwaway secrets: the env and containers the stack runs. */
function benchServices(o: { image: string; password: string; database: string; hostPort: number; directusImage: string }) {
  return describeServices({
    directusImage: o.directusImage,
    database: { image: o.image, name: o.database, user: "directus", password: o.password, hostPort: o.hostPort },
    directus: {
      hostPort: o.hostPort,
      bindAddress: "127.0.0.1",
      publicUrl: `http://localhost:${o.hostPort}`,
      adminEmail: "bench@trm.dev",
      adminPassword: randomBytes(12).toString("hex"),
      key: randomBytes(16).toString("hex"),
      secret: randomBytes(16).toString("hex"),
      schemaApplyMode: "apply",
      schemaAllowDeletions: false,
    },
  });
}

/** `docker run -d` of one image against one database, with the env the stack gives Directus (no healthcheck: polled over HTTP). */
function runDirectus(kind: Kind, image: string, db: Database, database: string, hostPort: number): string {
  const name = `${PREFIX}-${kind}`;
  const services = benchServices({ image: "unused", password: db.password, database, hostPort, directusImage: image });
  const env = Object.fromEntries(resolveEnv(services.directus, services.settings).map((e) => [e.name, e.value]));
  const envArgs = Object.entries(env).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
  dockerOrThrow(["run", "-d", "--init", "--name", name, "--network", db.net, "-p", `127.0.0.1:${hostPort}:8055`, ...envArgs, image]);
  return name;
}

/** Resolves with Date.now() when /server/health answers 200; rejects with the logs when the container exits first. */
async function untilHealthy(container: string, hostPort: number): Promise<number> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${hostPort}/server/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return Date.now();
    } catch {
      // not listening yet
    }
    if (i % 20 === 19 && docker(["inspect", "-f", "{{.State.Running}}", container]).stdout !== "true") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${container} not healthy:\n${docker(["logs", "--tail", "40", container]).stdout}`);
}

interface LogLine {
  at: number;
  text: string;
}

/** `docker logs -t` lines from `since` (ms) on, with their timestamps in ms. */
function logLines(container: string, since: number): LogLine[] {
  const result = docker(["logs", "-t", container]);
  return `${result.stdout}\n${result.stderr}`
    .split("\n")
    .map((line) => /^(\S+Z) (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: Date.parse(m[1].replace(/(\.\d{3})\d*Z$/, "$1Z")), text: m[2] }))
    .filter((line) => line.at >= since)
    .sort((a, b) => a.at - b.at);
}

const OUR_STEPS = ["1 pre-schema migrations", "2 bootstrap", "3 schema", "4 post-schema migrations", "5 pm2 → healthy"];

/** Ours: from the command to the 1/5 line, then between the n/5 lines, then from 5/5 to health 200. */
function ourSteps(lines: LogLine[], started: number, healthy: number): Steps {
  const marks = [1, 2, 3, 4, 5].map((n) => lines.find((l) => l.text.includes(`[trm-startup] ==> ${n}/5`))?.at);
  if (marks.some((m) => m === undefined)) return {};
  const at = [...(marks as number[]), healthy];
  const steps: Steps = { "0 container start": round((at[0] - started) / 1000) };
  OUR_STEPS.forEach((name, i) => (steps[name] = round((at[i + 1] - at[i]) / 1000)));
  return steps;
}

/** Upstream: from the command to bootstrap's "Done" (Node, loading Directus, the bootstrap), then pm2 until health 200. */
function upstreamSteps(lines: LogLine[], started: number, healthy: number): Steps {
  const done = lines.find((l) => /INFO: Done|"msg":"Done"/.test(l.text))?.at;
  if (done === undefined) return {};
  return { "bootstrap": round((done - started) / 1000), "pm2 → healthy": round((healthy - done) / 1000) };
}

async function bootRound(kind: Kind, image: string, db: Database, n: number): Promise<Round> {
  const database = `boot_${kind}_${n}`;
  await sql(db, `DROP DATABASE IF EXISTS ${database}`);
  await sql(db, `CREATE DATABASE ${database}`);
  const hostPort = await freePort();
  const steps = kind === "ours" ? ourSteps : upstreamSteps;
  try {
    let started = Date.now();
    const container = runDirectus(kind, image, db, database, hostPort);
    let healthy = await untilHealthy(container, hostPort);
    const firstBoot = { seconds: round((healthy - started) / 1000), steps: steps(logLines(container, started), started, healthy) };

    const stopping = Date.now();
    dockerOrThrow(["stop", container]);
    const stopSeconds = round((Date.now() - stopping) / 1000);
    started = Date.now();
    dockerOrThrow(["start", container]);
    healthy = await untilHealthy(container, hostPort);
    const warmRestart = { seconds: round((healthy - started) / 1000), steps: steps(logLines(container, started), started, healthy) };
    return { firstBoot, warmRestart, stopSeconds };
  } finally {
    docker(["rm", "-f", `${PREFIX}-${kind}`]);
    await sql(db, `DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  }
}

/** `npm run build:image` and `docker build` of this checkout (cached layers: a few seconds when unchanged). */
function buildImage(): void {
  const run = (command: string, argv: string[], env: NodeJS.ProcessEnv = process.env) => {
    const result = spawnSync(command, argv, { cwd: REPO_ROOT, env, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${command} ${argv.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  };
  run("npm", ["run", "--silent", "build:image"]);
  run("docker", ["build", "-q", "-t", OUR_IMAGE, "."], { ...process.env, DOCKER_BUILDKIT: "0" });
}

function bestOf(rounds: Round[], key: "firstBoot" | "warmRestart"): Boot {
  return rounds.map((r) => r[key]).reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function summarize(results: Record<Kind, Round[]>) {
  const sideOf = (kind: Kind) => ({
    firstBootSeconds: results[kind].map((r) => r.firstBoot.seconds),
    warmRestartSeconds: results[kind].map((r) => r.warmRestart.seconds),
    stopSeconds: results[kind].map((r) => r.stopSeconds),
    best: { firstBoot: bestOf(results[kind], "firstBoot"), warmRestart: bestOf(results[kind], "warmRestart") },
  });
  const upstream = sideOf("upstream");
  const ours = sideOf("ours");
  return {
    upstream,
    ours,
    ratio: {
      firstBoot: round(ours.best.firstBoot.seconds / upstream.best.firstBoot.seconds),
      warmRestart: round(ours.best.warmRestart.seconds / upstream.best.warmRestart.seconds),
    },
  };
}

function printTable(summary: ReturnType<typeof summarize>): void {
  const { upstream, ours, ratio } = summary;
  const mark = (value: number, target: number) => `${value}x ${value <= target ? "(met" : "(MISSED"}: target ≤ ${target}x)`;
  console.log(`\n| image | first boot (empty database) | warm restart |\n|---|---|---|`);
  console.log(`| upstream directus/directus:11.17.4 | ${upstream.best.firstBoot.seconds} s | ${upstream.best.warmRestart.seconds} s |`);
  console.log(`| ours (${OUR_IMAGE}) | ${ours.best.firstBoot.seconds} s | ${ours.best.warmRestart.seconds} s |`);
  console.log(`| ratio | ${mark(ratio.firstBoot, TARGETS.firstBoot)} | ${mark(ratio.warmRestart, TARGETS.warmRestart)} |`);
  console.log(`\nbest of ${RUNS}; all runs: upstream first ${upstream.firstBootSeconds.join(", ")} / warm ${upstream.warmRestartSeconds.join(", ")}; ` +
    `ours first ${ours.firstBootSeconds.join(", ")} / warm ${ours.warmRestartSeconds.join(", ")}`);
  for (const key of ["firstBoot", "warmRestart"] as const) {
    const steps = (boot: Boot) => Object.entries(boot.steps).map(([name, s]) => `${name} ${s}`).join(", ");
    console.log(`ours, ${key} step by step (s): ${steps(ours.best[key])}`);
    console.log(`upstream, ${key} (s): ${steps(upstream.best[key])}`);
  }
}

function writeResult(result: object): void {
  const out = path.join(__dirname, "results");
  const file = path.join(out, "boot.json");
  mkdirSync(out, { recursive: true });
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...previous, [LABEL]: result }, null, 2) + "\n");
  log(`written to ${path.relative(REPO_ROOT, file)} under "${LABEL}"`);
}

async function main(): Promise<void> {
  await ensureDocker(log);
  const [databaseImage, upstreamImage] = stackImages("dev");
  const sources = await ensureImages([databaseImage, upstreamImage], log);
  if (option("--image") === undefined) {
    log(`building ${OUR_IMAGE} from this checkout`);
    buildImage();
  }
  const db = startDatabase(databaseImage, await freePort());
  const results: Record<Kind, Round[]> = { upstream: [], ours: [] };
  const load = os.loadavg()[0];
  try {
    for (let n = 1; n <= RUNS; n++) {
      const order: Kind[] = n % 2 === 1 ? ["upstream", "ours"] : ["ours", "upstream"];
      for (const kind of order) {
        const r = await bootRound(kind, kind === "ours" ? OUR_IMAGE : upstreamImage, db, n);
        results[kind].push(r);
        log(`#${n} ${kind}: first boot ${r.firstBoot.seconds} s, warm restart ${r.warmRestart.seconds} s (stop ${r.stopSeconds} s) ${JSON.stringify(r.warmRestart.steps)}`);
      }
    }
  } finally {
    db.remove();
  }
  const summary = summarize(results);
  printTable(summary);
  writeResult({
    date: new Date().toISOString(),
    runs: RUNS,
    images: { upstream: `${upstreamImage} (${sources[upstreamImage]})`, ours: OUR_IMAGE, database: `${databaseImage} (${sources[databaseImage]})` },
    loadAverageAtStart: round(load),
    loadAverageAtEnd: round(os.loadavg()[0]),
    cores: os.cpus().length,
    measured: "first boot: docker run → /server/health 200; warm restart: docker start after docker stop → 200 (stop not counted)",
    ...summary,
    targets: { warmRestart: `≤ ${TARGETS.warmRestart}x`, firstBoot: `≤ ${TARGETS.firstBoot}x` },
  });
}

main().catch((error: Error) => {
  console.error(`bench: ERROR ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
