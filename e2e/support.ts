/**
 * Helpers for the end-to-end suites and the stack benchmark: a throwaway copy of the project, its
 * stack, and the project's own `npm run pulumi` to run a program in it inline under the real engine.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { SECRET_KEYS } from "../lib/stack-config";
import { useFreePorts } from "../scripts/ci-ports";
import { docker } from "../scripts/lib/docker";
import { ensureDocker, ensureImages, stackImages } from "../scripts/lib/machine";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources, type FoundPulumi } from "../scripts/lib/pulumi-cli";
import { ensureSecrets, openStack } from "../scripts/lib/stack";
import { startDockerStack, type DockerStack } from "../tools/plain-docker-stack";
import { projectCopy } from "../tools/project-copy";

export const REPO_ROOT = path.resolve(__dirname, "..");

/** Runs a command, streaming nothing, returning output; throws with the output on failure. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean; input?: string } = {},
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    input: options.input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

export { projectCopy } from "../tools/project-copy";

export function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

/** A `timed(key, fn)` that records into `timings` how many seconds each awaited step took, failed ones too. */
export function timerInto(timings: Record<string, number>) {
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      timings[key] = seconds(started);
    }
  };
}

export interface EngineStack {
  /** The stack without a program: outputs, config, export. Operations go through engineRun (a process of its own). */
  stack: Stack;
  name: string;
  /** The project copy the stack runs in. */
  project: string;
  /** Env of the stack's CLI (state backend, passphrase, PATH): for npm scripts run in the copy. */
  env: NodeJS.ProcessEnv;
  /** The generated secrets, to look for in state, images and logs. */
  secrets: Record<string, string>;
  /** The CLI the stack runs with. */
  pulumi: FoundPulumi;
}

/**
 * Everything the real engine needs, brought the way `npm run dev` brings it (Docker daemon, images
 * or stand-ins, the Pulumi CLI and plugins), then a project copy with its own state backend,
 * passphrase and stack `name`: the ci stack's config with `overrides`, generated secrets, free ports.
 */
export async function engineStack(
  name: string,
  overrides: Record<string, string>,
  log: (line: string) => void,
  timings: Record<string, number> = {},
): Promise<EngineStack> {
  let started = Date.now();
  await ensureDocker(log);
  await ensureImages(stackImages("ci"), log);
  timings.dockerAndImages = seconds(started);
  started = Date.now();
  const pulumi = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
  timings.toolchain = seconds(started);
  log(`pulumi ${pulumi.command.version} (${pulumi.source})`);

  removeDockerObjectsOf(name, log);
  const project = projectCopy();
  const config = parse(readFileSync(path.join(project, "Pulumi.ci.yaml"), "utf8")) as { config: Record<string, string> };
  for (const [key, value] of Object.entries(overrides)) config.config[`trm-directus:${key}`] = value;
  writeFileSync(path.join(project, `Pulumi.${name}.yaml`), stringify(config));
  return cloneState(name, project, pulumi);
}

/**
 * A clone's own state of stack `name` in `project`, as a fresh clone has it on its first run: a new
 * state backend and passphrase in <project>/.pulumi-state, the team's settings (Pulumi.<name>.yaml),
 * generated secrets and free ports. The e2e's `git clean -fdx` and second clone start here.
 */
export async function cloneState(name: string, project: string, pulumi: FoundPulumi): Promise<EngineStack> {
  // The user's PULUMI_HOME (its plugin cache) stays: the whole program's plugins are there.
  const env = {
    ...engineEnv(pulumi),
    PULUMI_BACKEND_URL: `file://${path.join(project, ".pulumi-state")}`,
    // in a file of the copy, so a failed run's state can still be read afterwards
    PULUMI_CONFIG_PASSPHRASE_FILE: writePassphrase(project),
    // scripts run in the copy find the same CLI first on PATH
    PATH: [path.dirname(pulumi.command.command), process.env.PATH].join(path.delimiter),
  };
  const stack = await openStack(name, { pulumi: pulumi.command, workDir: project, env, program: false, log: () => undefined });
  await ensureSecrets(stack);
  await useFreePorts(stack);
  const secrets = Object.fromEntries(await Promise.all(SECRET_KEYS.map(async (k) => [k, (await stack.getConfig(k)).value])));
  return { stack, name, project, env, secrets, pulumi };
}

/**
 * A fresh stack needs a clean slate: containers, networks and volumes an earlier, failed run of the
 * same stack name left behind (its data volume would keep the old run's database password).
 */
function removeDockerObjectsOf(stackName: string, log: (line: string) => void): void {
  const filter = ["--filter", `name=trm-${stackName}-`];
  const list = (args: string[]) => docker(args).stdout.split("\n").filter(Boolean);
  const containers = list(["ps", "-aq", ...filter]);
  const networks = list(["network", "ls", "-q", ...filter]);
  const volumes = list(["volume", "ls", "-q", ...filter]);
  if (containers.length + networks.length + volumes.length === 0) return;
  log(`removing what an earlier run of stack ${stackName} left in Docker: ${containers.length} container(s), ${networks.length} network(s), ${volumes.length} volume(s)`);
  if (containers.length > 0) docker(["rm", "-f", ...containers]);
  if (networks.length > 0) docker(["network", "rm", ...networks]);
  if (volumes.length > 0) docker(["volume", "rm", ...volumes]);
}

function writePassphrase(project: string): string {
  const file = path.join(project, ".pulumi-state", "passphrase");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, randomBytes(16).toString("hex"), { mode: 0o600 });
  return file;
}

export interface EngineRun {
  /** What the engine printed (the operation's own output, as the CLI prints it). */
  stdout: string;
  /** The script's own messages (recovery, plugins, the CLI it uses). */
  stderr: string;
  changeSummary: Record<string, number>;
  events: EngineEvent[];
}

type Operation = "up" | "preview" | "refresh" | "destroy";

export interface RunningEngine {
  /** The npm process, leader of its own process group (as a terminal's foreground job is). */
  pid: number;
  eventsFile: string;
  finished: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Sends a signal to the whole group, as Ctrl-C in a terminal (SIGINT) or a kill of everything (SIGKILL). */
  signal(signal: NodeJS.Signals): void;
  /** What it printed so far (stdout, then stderr). */
  output(): string;
}

/** Resolves once what a run printed matches `pattern`. */
export async function printed(running: RunningEngine, pattern: RegExp, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(running.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs / 1000} s; printed:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts `npm run <script> -- [args]` in the project copy, leader of its own process group. */
export function startNpm(target: EngineStack, script: string, args: string[] = []): RunningEngine & { argv: string[] } {
  const argv = ["run", "--silent", script, "--", ...args];
  const child = spawn("npm", argv, { cwd: target.project, env: target.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const finished = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    pid: child.pid!,
    eventsFile: "",
    argv,
    finished,
    output: () => stdout + stderr,
    signal: (sig) => process.kill(-child.pid!, sig),
  };
}

/**
 * Starts `npm run pulumi -- <operation> --stack <name> [flags]` in the project copy: the program runs
 * inline in a process of its own, as a developer runs it (vitest's module transform would break the
 * dynamic providers' serialization in this process).
 */
export function startEngineRun(target: EngineStack, operation: Operation, flags: string[] = []): RunningEngine & { resultFile: string; argv: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-engine-run-"));
  const [resultFile, eventsFile] = [path.join(dir, "result.json"), path.join(dir, "events.jsonl")];
  const running = startNpm(target, "pulumi", [operation, "--stack", target.name, "--result", resultFile, "--events", eventsFile, ...flags]);
  return { ...running, eventsFile, resultFile };
}

/** Runs one operation to its end; rejects with the whole output when it fails. */
export async function engineRun(target: EngineStack, operation: Operation, flags: string[] = []): Promise<EngineRun> {
  const running = startEngineRun(target, operation, flags);
  const { code, stdout, stderr } = await running.finished;
  if (code !== 0) throw new Error(`npm ${running.argv.join(" ")} failed (exit ${code}):\n${stdout}\n${stderr}`);
  return { stdout, stderr, changeSummary: JSON.parse(readFileSync(running.resultFile, "utf8")).changeSummary, events: readEvents(running.eventsFile) };
}

/** The events a run wrote so far (a line being written is left for the next read). */
export function readEvents(file: string): EngineEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        return line ? [JSON.parse(line) as EngineEvent] : [];
      } catch {
        return [];
      }
    });
}

/** Resolves once the engine announced a step of `op` on the resource named `name` (from the events file). */
export async function stepStarted(running: RunningEngine, op: string, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = readEvents(running.eventsFile).some((e) => e.resourcePreEvent?.metadata.op === op && e.resourcePreEvent.metadata.urn.endsWith(`::${name}`));
    if (seen) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "${op} ${name}" step within ${timeoutMs / 1000} s`);
}

/** "op name" for every step of a run other than "same", in the order the engine announced them. */
export function changedSteps(run: EngineRun): string[] {
  return run.events.flatMap((e) => {
    const step = e.resourcePreEvent?.metadata;
    return step && step.op !== "same" ? [`${step.op} ${step.urn.split("::").pop()}`] : [];
  });
}

/** Operations other than "same" in an up's or preview's summary, e.g. { update: 1 }. */
export function changes(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && n > 0));
}

/**
 * The engine suites' containers: our image built from the project copy, and the stack's database and
 * Directus started by plain Docker with the stack's ports and secrets (the dynamic resources under test
 * then run against them). Records `imageBuild` and `containersHealthy` in timings.
 */
export async function bootImageAndContainers(
  target: EngineStack,
  options: { prefix: string; image: string; adminEmail: string },
  timings: Record<string, number>,
): Promise<DockerStack> {
  let started = Date.now();
  run("npm", ["run", "--silent", "build:image"], { cwd: target.project });
  // The classic builder: the Docker CLI's BuildKit front end (buildx) is not on every machine.
  run("docker", ["build", "-q", "-t", options.image, "."], { cwd: target.project, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  timings.imageBuild = seconds(started);
  started = Date.now();
  const config = await target.stack.getAllConfig();
  const containers = await startDockerStack({
    prefix: options.prefix,
    directusImage: options.image,
    databaseImage: config["trm-directus:databaseImage"]?.value ?? "timescale/timescaledb-ha:pg16.6-ts2.17.2-all",
    dbPort: Number(config["trm-directus:dbPort"].value),
    directusPort: Number(config["trm-directus:directusPort"].value),
    dbPassword: target.secrets.dbPassword,
    adminEmail: options.adminEmail,
    adminPassword: target.secrets.adminPassword,
  });
  timings.containersHealthy = seconds(started);
  return containers;
}
