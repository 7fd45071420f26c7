/**
 * Boots the compose text Portainer runs for stage (Pulumi.stage.yaml rendered by lib/compose.ts)
 * with the Directus image just built from this checkout, using the docker compose binary Portainer
 * CE 2.23 runs (v2.29.2, scripts/ci-tools.sh): throwaway secrets in an env file (as Portainer passes
 * a stack's env), a project name and host port of its own. It waits until both services are
 * healthy, seeds Rally Albania 2026 with the seed engine, runs the smoke check, seeds again (0 writes
 * expected), and always takes the project down with its volumes, on failure and Ctrl-C too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildImageBundle } from "../lib/build/image-bundle";
import { renderPortainerStack, stackInputFromConfig, type PortainerStack } from "../lib/compose";
import { connectDirectus } from "../lib/directus-client";
import { freePort } from "../lib/free-port";
import { seedDirectus } from "../lib/seed/apply";
import { loadSeedFile } from "../lib/seed/data";
import { validateStackConfig, type StackConfig } from "../lib/stack-config";
import { teamSettings } from "../scripts/render-portainer-compose";
import { REPO_ROOT } from "../scripts/lib/stack";

export interface ComposeBootOptions {
  /** The docker compose v2 binary (scripts/ci-tools.sh prints its folder). */
  composeBinary: string;
  /** Compose project name: its containers, network and volumes are named after it. */
  project: string;
  /** The stack config rendered (its tracked Pulumi.<stack>.yaml). */
  stack: string;
  /** Tag our image is built as; `skipBuild` uses it as it is. */
  image: string;
  skipBuild: boolean;
  /** Bound on `up` until both services are healthy. */
  healthTimeoutSeconds: number;
  log: (line: string) => void;
}

export interface PhaseTimes {
  [phase: string]: number;
}

/** Runs every phase; resolves with the seconds each took, rejects with the first failure (after `down -v`). */
export async function composeBoot(o: ComposeBootOptions): Promise<PhaseTimes> {
  const times: PhaseTimes = {};
  const phase = async <T>(name: string, fn: () => Promise<T> | T, evenWhenInterrupted = false): Promise<T> => {
    if (interrupted && !evenWhenInterrupted) throw new Error("interrupted (Ctrl-C)");
    const started = Date.now();
    const took = () => (times[name] = Math.round((Date.now() - started) / 100) / 10);
    try {
      const result = await fn();
      o.log(`${name}: ${took()} s`);
      return result;
    } catch (error) {
      o.log(`${name}: failed after ${took()} s`);
      throw error;
    }
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-compose-boot-"));
  const compose = (args: string[], quiet = false) =>
    run(o.composeBinary, ["-p", o.project, "-f", path.join(dir, "compose.yaml"), "--env-file", path.join(dir, "stack.env"), ...args], quiet);
  const stopOnCtrlC = interruptible(o.log, o.project);
  let rendered = false;
  try {
    if (!o.skipBuild) await phase("image build", () => buildImage(o.image));
    const { config, stack } = await phase("render", async () => renderBootStack(o.stack, o.image, await freePort()));
    writeFileSync(path.join(dir, "compose.yaml"), stack.compose);
    // As Portainer passes a stack's env: a file of NAME=value lines, readable by this user only.
    writeFileSync(path.join(dir, "stack.env"), stack.env.map((e) => `${e.name}=${e.value}`).join("\n") + "\n", { mode: 0o600 });
    rendered = true;
    const url = `http://127.0.0.1:${config.directus.hostPort}`;
    o.log(`project ${o.project}, Directus on ${url}, image ${o.image}`);

    await phase("up → both healthy", async () => {
      const up = await compose(["up", "-d", "--wait", "--wait-timeout", String(o.healthTimeoutSeconds)]);
      if (interrupted) throw new Error("interrupted (Ctrl-C): the project was taken down");
      if (up.status !== 0) {
        const logs = await compose(["logs", "--no-color", "--tail", "40"], true);
        throw new Error(`docker compose up did not get both services healthy within ${o.healthTimeoutSeconds} s (exit ${up.status}); last log lines:\n${logs.output}`);
      }
    });
    const credentials = { email: config.directus.adminEmail, password: config.directus.adminPassword };
    const desired = loadSeedFile(path.join(REPO_ROOT, config.seedFile ?? "seed/rally-albania-2026.yaml"));
    const planSummary = (line: string) => line.startsWith("seed plan:") && o.log(line);
    const seed = async () => (await seedDirectus({ client: await connectDirectus(url, credentials), desired, log: planSummary })).writeRequests;
    const first = await phase("seed", seed);
    o.log(`seed: ${first} write request(s)`);
    await phase("smoke check", async () => {
      const smoke = await run("npx", ["tsx", path.join(REPO_ROOT, "scripts/smoke.ts")], false, {
        DIRECTUS_URL: url,
        DIRECTUS_ADMIN_EMAIL: credentials.email,
        DIRECTUS_ADMIN_PASSWORD: credentials.password,
      });
      if (smoke.status !== 0) throw new Error(`the smoke check failed:\n${smoke.output}`);
    });
    const second = await phase("second seed", seed);
    o.log(`second seed: ${second} write request(s)`);
    if (second !== 0) throw new Error(`the second seed wrote ${second} request(s): the seed is not idempotent against the compose stack`);
    return times;
  } finally {
    if (rendered) await phase("down -v", async () => {
      const down = await compose(["down", "-v", "--remove-orphans", "--timeout", "20"], true);
      if (down.status !== 0) o.log(`down -v failed: ${down.output}\nremove it by hand: docker compose -p ${o.project} down -v`);
    }, true).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    stopOnCtrlC.release();
  }
}

/** The stack config's compose and env with throwaway secrets, Directus on `image` and a free local port. */
export function renderBootStack(stackName: string, image: string, port: number): { config: StackConfig; stack: PortainerStack } {
  const secret = () => randomBytes(24).toString("hex");
  const config = validateStackConfig(stackName, {
    ...teamSettings(stackName),
    adminPassword: `Boot-${randomBytes(12).toString("hex")}-7x`,
    dbPassword: secret(),
    directusKey: secret(),
    directusSecret: secret(),
    directusPort: String(port),
    directusBindAddress: "127.0.0.1",
    publicUrl: `http://127.0.0.1:${port}`,
  });
  return { config, stack: renderPortainerStack(stackInputFromConfig(config, image)) };
}

/** The image bundle, then `docker build` of this checkout (the classic builder: buildx is not everywhere). */
async function buildImage(tag: string): Promise<void> {
  await buildImageBundle(REPO_ROOT);
  const build = await run("docker", ["build", "-q", "-t", tag, REPO_ROOT], false, { DOCKER_BUILDKIT: "0" });
  if (build.status !== 0) throw new Error(`docker build failed:\n${build.output}`);
}

let interrupted = false;
const SAME_CTRL_C_MS = 1000;
let current: ChildProcess | undefined;

/**
 * Ctrl-C stops the step in flight and goes on to `down -v`. Children run in a process group of their
 * own, so the terminal's SIGINT reaches only this process, which decides what stops.
 */
function interruptible(log: (line: string) => void, project: string) {
  let first = 0;
  const onSignal = () => {
    interrupted = true;
    // tsx and npm relay the terminal's SIGINT to this process too: one Ctrl-C can arrive twice.
    if (first && Date.now() - first > SAME_CTRL_C_MS) {
      log(`stopped at once: remove what is left with  docker compose -p ${project} down -v`);
      process.exit(130);
    }
    if (first) return;
    first = Date.now();
    log("interrupted: stopping the step in flight, then docker compose down -v (Ctrl-C again stops at once)");
    process.exitCode = 130;
    if (current?.pid) process.kill(-current.pid, "SIGTERM");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    release: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Runs a command; resolves with its exit status and combined output (printed unless quiet). */
function run(command: string, args: string[], quiet = false, env: NodeJS.ProcessEnv = {}): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    current = child;
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => {
      current = undefined;
      resolve({ status: code ?? 1, output: output.trim() });
    });
  });
}
