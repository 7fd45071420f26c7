/**
 * What `npm run dev` repairs before its `pulumi up`, so one run converges from whatever state a dev
 * machine is in: a lock left by a run that no longer exists, operations a killed engine left pending
 * (and the containers it had created without recording them), and the stack's containers, network and
 * volumes as Docker has them now (stopped ones are started, missing ones are re-read so `up` recreates
 * them). Plain functions over the Automation API and the Docker CLI.
 */
import type { Deployment, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { DOCKER_NETWORK_TYPES } from "../../components/docker-network";
import { docker } from "./docker";

export interface LockHolder {
  file: string;
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

/** The lock files of a stack in a file:// backend (`.pulumi/locks/organization/<project>/<stack>/*.json`). */
export function readLocks(backendUrl: string, project: string, stackName: string): LockHolder[] {
  if (!backendUrl.startsWith("file://")) return [];
  const dir = path.join(fileURLToPath(backendUrl), ".pulumi", "locks", "organization", project, stackName);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ file: path.join(dir, f), ...JSON.parse(readFileSync(path.join(dir, f), "utf8")) }));
}

/** Whether a process runs: a zombie (killed, its parent gone, not yet reaped) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = `/proc/${pid}/stat`;
  // the state letter follows the command name in parentheses: "1234 (pulumi) Z ..."
  return !existsSync(stat) || !/\) Z /.test(readFileSync(stat, "utf8"));
}

export class StackLockedError extends Error {}

/**
 * Clears the locks of processes that no longer run on this machine (an interrupted or killed run), with
 * a message; refuses when a live process, or another machine, holds the stack.
 */
export async function releaseStaleLocks(
  stack: Stack,
  locks: LockHolder[],
  log: (line: string) => void,
  alive: (pid: number) => boolean = isAlive,
): Promise<void> {
  if (locks.length === 0) return;
  const here = os.hostname();
  const live = locks.find((l) => l.hostname === here && alive(l.pid));
  if (live) throw new StackLockedError(`another \`npm run dev\` (or pulumi) is running on stack ${stack.name} (pid ${live.pid}, since ${live.timestamp}): wait for it to end, or stop it`);
  const elsewhere = locks.find((l) => l.hostname !== here);
  if (elsewhere) {
    throw new StackLockedError(
      `stack ${stack.name} is locked by ${elsewhere.username}@${elsewhere.hostname} (pid ${elsewhere.pid}, since ${elsewhere.timestamp}). ` +
        `If that run is gone, \`npm run pulumi -- cancel --stack ${stack.name} --yes\` releases it`,
    );
  }
  for (const lock of locks) log(`released the lock of a run that no longer exists (pid ${lock.pid}, ${lock.timestamp})`);
  await stack.cancel();
  const workDir = (stack.workspace as LocalWorkspace | undefined)?.workDir;
  if (workDir) for (const orphan of await stopOrphanedPlugins(workDir)) log(`stopped ${orphan}: a plugin the killed run left running`);
}

/**
 * The plugins of a killed engine (dynamic-provider hosts, provider binaries) outlive it, adopted by
 * init, idle: stop those that ran in this project folder, and return once they are gone (SIGTERM, then
 * SIGKILL for any still there after `graceMs`). Linux only (/proc); elsewhere none is found.
 */
export async function stopOrphanedPlugins(workDir: string, graceMs = 2_000): Promise<string[]> {
  if (!existsSync("/proc")) return [];
  const stopped: { pid: number; name: string }[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      const parent = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1];
      const isPlugin = /cmd\/dynamic-provider|pulumi-resource-/.test(command);
      if (isPlugin && parent === "1" && realpathSync(`/proc/${pid}/cwd`) === realpathSync(workDir)) {
        process.kill(Number(pid), "SIGTERM");
        const name = /cmd\/dynamic-provider/.test(command) ? "the dynamic-provider host" : path.basename(command.split(" ")[0]);
        stopped.push({ pid: Number(pid), name });
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  await untilGone(stopped.map((s) => s.pid), graceMs);
  return stopped.map(({ pid, name }) => `${name} (pid ${pid})`);
}

/** Waits for the processes to end; kills those still running after `graceMs`. */
async function untilGone(pids: number[], graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  let left = pids.filter(isRunning);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = left.filter(isRunning);
  }
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }
}

/** Running, not merely waiting to be reaped (a zombie init has not collected yet is gone for us). */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== undefined && state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * What an interrupted or killed run leaves that would block the next one: its lock (when its process is
 * gone) and its pending operations. Every script that runs an operation calls this first. Returns the
 * state as it found it (read once: `npm run dev` checks the stack's Docker objects against it too).
 */
export async function recoverInterruptedRun(stack: Stack, log: (line: string) => void): Promise<Deployment> {
  const workspace = stack.workspace as LocalWorkspace;
  const project = (await workspace.projectSettings()).name;
  const backend = workspace.envVars.PULUMI_BACKEND_URL ?? "";
  await releaseStaleLocks(stack, readLocks(backend, project, stack.name), log);
  const checkpoint = readCheckpoint(backend, project, stack.name);
  // pending operations are resolved on the exported state, which `stack import` takes back as it is
  const state = checkpoint && !checkpoint.deployment.pending_operations?.length ? checkpoint : await stack.exportStack();
  await resolvePendingOperations(stack, state, log);
  return state;
}

/**
 * The stack's last checkpoint in a file:// backend (`.pulumi/stacks/<project>/<stack>.json[.gz]`), as
 * `stack export` gives it but with its secrets left encrypted, read without a CLI call: `stack export
 * --show-secrets` takes ~0.4 s, most of it deriving the passphrase's key. A stack with no checkpoint
 * yet reads as an empty deployment; undefined for another backend or a file it cannot read.
 */
export function readCheckpoint(backendUrl: string, project: string, stackName: string): Deployment | undefined {
  if (!backendUrl.startsWith("file://")) return undefined;
  const file = path.join(fileURLToPath(backendUrl), ".pulumi", "stacks", project, `${stackName}.json`);
  try {
    const text = existsSync(file) ? readFileSync(file, "utf8") : existsSync(`${file}.gz`) ? gunzipSync(readFileSync(`${file}.gz`)).toString("utf8") : undefined;
    if (text === undefined) return { version: 3, deployment: {} };
    const { version, checkpoint } = JSON.parse(text) as { version: number; checkpoint: { latest?: Deployment["deployment"] } };
    return { version, deployment: checkpoint.latest ?? {} };
  } catch {
    return undefined;
  }
}

interface PendingOperation {
  type: string;
  resource: { urn: string; type: string; inputs?: Record<string, unknown> };
}

const PENDING_VERB: Record<string, string> = { creating: "create", updating: "update", deleting: "delete", reading: "read", importing: "import" };

/** Docker objects a create makes under a name of ours: an orphan of an unrecorded create blocks the next create. */
const NAMED_DOCKER_OBJECTS: Record<string, (name: string) => string[]> = {
  "docker:index/container:Container": (name) => ["rm", "-f", name],
  "docker:index/network:Network": (name) => ["network", "rm", name],
};

/**
 * Resolves the operations a killed engine left pending: a container or network it created but did not
 * record is removed by its deterministic name (the next `up` creates it again), and the pending
 * operations are dropped from the state. Our migrations and seed are idempotent: an interrupted one is
 * simply applied again by the next `up` (its state still says what was last recorded).
 */
export async function resolvePendingOperations(stack: Stack, state: Deployment, log: (line: string) => void): Promise<number> {
  const pending = (state.deployment?.pending_operations ?? []) as PendingOperation[];
  if (pending.length === 0) return 0;
  for (const op of pending) {
    const name = String(op.resource.inputs?.name ?? "");
    const remove = NAMED_DOCKER_OBJECTS[op.resource.type];
    const recorded = (state.deployment.resources ?? []).some((r: { urn: string }) => r.urn === op.resource.urn);
    if (op.type === "creating" && remove && name && !recorded && docker(["inspect", name]).ok) {
      docker(remove(name));
      log(`removed ${name}: a killed run created it without recording it (it is created again)`);
    }
    log(`dropped the pending ${PENDING_VERB[op.type] ?? op.type} of ${op.resource.urn.split("::").pop()} left by an interrupted run`);
  }
  await stack.importStack({ ...state, deployment: { ...state.deployment, pending_operations: [] } });
  return pending.length;
}

export interface DockerObjects {
  containers: string[];
  /** The database's container (when it is new, so is the database Directus sees). */
  databaseContainer?: string;
  networks: string[];
  volumes: string[];
  /** The database's data volume (its loss means an empty database). */
  dataVolume?: string;
}

export interface DockerDrift {
  missing: string[];
  stopped: string[];
  dataVolumeLost: boolean;
}

/** How the stack's Docker objects are now: missing, or containers that exist but do not run. */
export function findDockerDrift(objects: DockerObjects): DockerDrift {
  const drift: DockerDrift = { missing: [], stopped: [], dataVolumeLost: false };
  for (const name of objects.containers) {
    const state = docker(["inspect", "-f", "{{.State.Running}}", name]);
    if (!state.ok) drift.missing.push(name);
    else if (state.stdout !== "true") drift.stopped.push(name);
  }
  for (const name of objects.networks) if (!docker(["network", "inspect", name]).ok) drift.missing.push(name);
  for (const name of objects.volumes) {
    if (docker(["volume", "inspect", name]).ok) continue;
    drift.missing.push(name);
    if (name === objects.dataVolume) drift.dataVolumeLost = true;
  }
  return drift;
}

/** The stack's outputs as a state records them (its Stack resource's; empty before the first `up`). */
export function stackOutputsIn(state: Deployment): Record<string, any> {
  return (state.deployment?.resources ?? []).find((r: { type: string }) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
}

/** The stack's Docker objects by name, from its outputs (empty before the first `up`). */
export function dockerObjectsOf(outputs: Record<string, any>): DockerObjects {
  return {
    containers: [outputs.databaseContainer, outputs.directusContainer].filter(Boolean),
    databaseContainer: outputs.databaseContainer,
    networks: [outputs.networkName].filter(Boolean),
    volumes: Object.values((outputs.volumes ?? {}) as Record<string, string>),
    dataVolume: outputs.volumes?.data,
  };
}

/** URNs of the stack's Docker containers, networks and volumes: what a targeted refresh re-reads. */
export async function dockerResourceUrns(stack: Stack): Promise<string[]> {
  const { deployment } = await stack.exportStack();
  return (deployment.resources ?? [])
    .map((r: { urn: string; type: string }) => r)
    .filter((r: { type: string }) => /^docker:index\/(container|volume):/.test(r.type) || DOCKER_NETWORK_TYPES.includes(r.type))
    .map((r: { urn: string }) => r.urn);
}

/** URNs of the resources that live inside the database and Directus (migrations, seed). */
export async function dataResourceUrns(stack: Stack): Promise<string[]> {
  const { deployment } = await stack.exportStack();
  return (deployment.resources ?? [])
    .filter((r: { type: string }) => r.type === "pulumi-nodejs:dynamic:Resource")
    .map((r: { urn: string }) => r.urn);
}

/** The newest dump of a stack in backups/ (by modification time), for the data-loss message. */
export function newestBackup(dir: string, stackName: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${stackName}-`) && f.endsWith(".dump"))
    .map((f) => ({ file: path.join(dir, f), mtime: statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime)
    .pop()?.file;
}
