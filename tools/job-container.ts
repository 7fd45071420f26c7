/**
 * A job container as Gitea's act_runner starts one for .gitea/workflows/build.yml by default: the job
 * in a container on a network of its own, the Docker socket mounted, every step run in it with
 * `docker exec`. Here its image is the local job image (offline/ci-job: Node 22, npm, the Docker CLI,
 * nothing else); the workspace (a copy of the tree) is mounted at its own path, with this checkout's
 * node_modules (the workflow's `npm ci`) and the Pulumi CLI's folder (what the workflow's prepare step
 * brings), and, for the whole program, the provider plugins (PULUMI_HOME).
 *
 *   npx tsx tools/job-container.ts [--stack job-ci] [--plugins DIR] [--keep]
 * runs the build job's ci steps as the workflow writes them (prepare, preview, dry-run up, smoke,
 * destroy; container logs on failure) in such a container, on a stack of its own name with the ci
 * stack's settings, and prints each step's time. --plugins mounts DIR as PULUMI_HOME (default: the
 * plugin cache this machine's Pulumi uses); --keep leaves the workspace copy.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { docker, dockerOrThrow } from "../scripts/lib/docker";
import { ensureDocker, ensureImages, runScript, stackImages } from "../scripts/lib/machine";
import { findPulumi, pinnedPulumiVersion, realPulumiSources } from "../scripts/lib/pulumi-cli";
import { REPO_ROOT } from "../scripts/lib/stack";
import { projectCopy } from "./project-copy";

const JOB_IMAGE_SCRIPT = path.join(REPO_ROOT, "offline", "ci-job", "build.sh");
const PULUMI_IN_JOB = "/opt/pulumi/bin";
const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface JobContainerOptions {
  /** The container's name; its own network is <name>-net. */
  name: string;
  /** On the host's network instead (act_runner's `container.network: host`). */
  hostNetwork?: boolean;
  image: string;
  /** The job's working directory, mounted at the same path (so absolute paths in state and symlinks hold). */
  workspace: string;
  /** The folder of the Pulumi CLI (and the dynamic-provider host beside it), put first on PATH. */
  pulumiBinDir: string;
  /** Plain env of every step (values visible to `docker inspect`: no secrets here). */
  env?: Record<string, string>;
  /** Env passed by name from this process to every step (secrets: never on a command line). */
  secretEnv?: Record<string, string>;
  /** Pulumi's plugin cache, mounted as PULUMI_HOME. */
  pulumiHome?: string;
}

export interface StepResult {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  seconds: number;
}

export interface JobContainer {
  name: string;
  /** Its network: <name>-net, or "host". */
  network: string;
  /** Runs `bash -c <script>` in the workspace, as act runs a `run:` step; `onOutput` sees the output as it comes. */
  exec(script: string, options?: { env?: Record<string, string>; onOutput?: (text: string) => void }): Promise<StepResult>;
  /** Removes the container and its network. */
  remove(): void;
}

/** The local job image (offline/ci-job/build.sh, cached: a no-op when its inputs are unchanged). */
export async function buildJobImage(): Promise<string> {
  return runScript(JOB_IMAGE_SCRIPT, { captureStdout: true });
}

/** Starts the job container, with only the socket and its own network (plus the mounts named in the options). */
export function startJobContainer(o: JobContainerOptions): JobContainer {
  const network = o.hostNetwork ? "host" : `${o.name}-net`;
  const remove = () => {
    docker(["rm", "-f", o.name]);
    if (!o.hostNetwork) docker(["network", "rm", network]);
  };
  remove();
  if (!o.hostNetwork) dockerOrThrow(["network", "create", network]);
  const nodeModules = path.join(REPO_ROOT, "node_modules");
  const mounts = [
    "/var/run/docker.sock:/var/run/docker.sock",
    `${o.workspace}:${o.workspace}`,
    `${nodeModules}:${nodeModules}:ro`,
    `${o.pulumiBinDir}:${PULUMI_IN_JOB}:ro`,
    ...(o.pulumiHome ? [`${o.pulumiHome}:/pulumi-home`] : []),
  ];
  const env = { ...o.env, PATH: `${PULUMI_IN_JOB}:${IMAGE_PATH}`, ...(o.pulumiHome ? { PULUMI_HOME: "/pulumi-home" } : {}) };
  dockerOrThrow([
    "run", "-d", "--name", o.name, "--network", network, "--workdir", o.workspace,
    ...mounts.flatMap((m) => ["-v", m]),
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    // as act keeps a job container alive between steps
    o.image, "sleep", "infinity",
  ]);
  return {
    name: o.name,
    network,
    exec: (script, options = {}) => execStep(o, { ...options.env }, script, options.onOutput),
    remove,
  };
}

function execStep(o: JobContainerOptions, env: Record<string, string>, script: string, onOutput?: (text: string) => void): Promise<StepResult> {
  const secrets = o.secretEnv ?? {};
  const args = [
    "exec",
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    ...Object.keys(secrets).flatMap((k) => ["-e", k]),
    o.name, "bash", "-eo", "pipefail", "-c", script,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { env: { ...process.env, ...secrets }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (chunk: Buffer) => {
      output += chunk;
      onOutput?.(chunk.toString());
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, seconds: Math.round((Date.now() - started) / 100) / 10 }));
  });
}

/** The networks a container is on, by name. */
export function networksOf(container: string): string[] {
  return Object.keys(JSON.parse(dockerOrThrow(["inspect", "--format", "{{json .NetworkSettings.Networks}}", container])));
}

// ---------------------------------------------------------------------------------------------------
// The CLI: the workflow's ci steps in a job container.

interface WorkflowStep {
  name?: string;
  run?: string;
}

/** The build job's steps that bring up, check and destroy the ci stack, as the workflow writes them, for stack `stack`. */
export function workflowCiSteps(stack: string, workflowFile = path.join(REPO_ROOT, ".gitea/workflows/build.yml")): { name: string; run: string; always?: boolean; onFailure?: boolean }[] {
  const steps: WorkflowStep[] = parse(readFileSync(workflowFile, "utf8")).jobs.build.steps;
  const runOf = (name: string) => {
    const found = steps.find((s) => s.name === name);
    if (!found?.run) throw new Error(`${path.relative(REPO_ROOT, workflowFile)}: the build job has no run step "${name}"`);
    return found.run.replace(/(--stack |--prepare-only |ci-ports\.ts )ci\b/g, `$1${stack}`).replace(/\btrm-ci-/g, `trm-${stack}-`);
  };
  return [
    { name: "Prepare", run: runOf("Prepare the ci stack (Pulumi CLI, local state, generated secrets, free ports)") },
    { name: "Preview", run: runOf("Preview") },
    { name: "Dry-run up", run: runOf("Dry-run up") },
    { name: "Smoke", run: runOf("Smoke check of the seeded Directus") },
    { name: "Container logs", run: runOf("Container logs"), onFailure: true },
    { name: "Destroy", run: runOf("Destroy the ci stack"), always: true },
  ];
}

/** A checkout as actions/checkout leaves one, with the ci stack's team settings under this stack's name. */
function workspaceCopy(stack: string): string {
  const dir = projectCopy("trm-job-workspace-");
  if (stack !== "ci") copyFileSync(path.join(dir, "Pulumi.ci.yaml"), path.join(dir, `Pulumi.${stack}.yaml`));
  return dir;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { stack: { type: "string", default: "job-ci" }, plugins: { type: "string" }, keep: { type: "boolean", default: false } },
  });
  const stack = values.stack!;
  const log = (line: string) => console.log(`job-container: ${line}`);
  const times: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      times[name] = Math.round((Date.now() - started) / 100) / 10;
    }
  };
  const started = Date.now();
  await ensureDocker(log);
  await ensureImages(stackImages("ci"), log);
  const image = await timed("job image", buildJobImage);
  const pulumi = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
  const pulumiHome = values.plugins ?? process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
  const workspace = workspaceCopy(stack);
  const job = await timed("job container", () =>
    startJobContainer({
      name: `trm-${stack}-job`,
      image,
      workspace,
      pulumiBinDir: path.dirname(pulumi.command.command),
      pulumiHome,
      // the workflow's env (PULUMI_CONFIG_PASSPHRASE is a repository secret there)
      env: { PULUMI_BACKEND_URL: `file://${workspace}/.pulumi-state`, PULUMI_SKIP_UPDATE_CHECK: "true", TRM_STACK: stack },
      secretEnv: { PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64url") },
    }),
  );
  log(`${job.name} (${image}) on network ${job.network}, workspace ${workspace}, PULUMI_HOME ${pulumiHome}`);
  let failed = false;
  try {
    for (const step of workflowCiSteps(stack)) {
      if ((failed && !step.always && !step.onFailure) || (!failed && step.onFailure)) continue;
      log(`=== ${step.name}: ${step.run.replace(/\n/g, "; ")}`);
      const result = await job.exec(step.run, { onOutput: (text) => process.stdout.write(text) });
      times[step.name] = result.seconds;
      log(`=== ${step.name}: ${result.code === 0 ? "passed" : `FAILED (exit ${result.code})`} in ${result.seconds} s`);
      failed ||= result.code !== 0;
    }
  } finally {
    job.remove();
    if (!values.keep) rmSync(workspace, { recursive: true, force: true });
  }
  log(`times (s): ${JSON.stringify(times)}; in all ${Math.round((Date.now() - started) / 100) / 10} s`);
  if (failed) throw new Error("a step failed (output above)");
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`job-container: ERROR ${error.message}`);
    process.exitCode = 1;
  });
}
