/**
 * npm run dev [-- <stack>] [--prepare-only]: stands up a stack (default dev) with one command,
 * bringing what the machine lacks first, each step timed:
 *   1. the Pulumi CLI (PATH, cache, download, or built from the Go module proxy), while
 *   2. a Docker daemon and
 *   3. the upstream images (pulled, or local stand-ins where no registry answers) are brought;
 *   4. the stack: local state backend, stack, generated secrets, the provider plugins (downloaded
 *      where possible; where not, it stops here, naming each missing one and how to install it),
 *   5. `pulumi up` of the program, inline (no language host needed), streamed, converging from what
 *      it finds (a stale lock, a killed run's pending operations, the stack's Docker objects left by
 *      an earlier state or another clone, stopped or missing containers, a lost data volume: see
 *      upConverging);
 *   6. "ready" only once the database answers, Directus is healthy and the seed reads back; else it
 *      says what is not and exits non-zero.
 * --refresh makes it `pulumi up --refresh` (repairs drift of the seeded items); --prepare-only stops
 * after step 4 (CI uses it). Ctrl-C: scripts/lib/interrupt.ts.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import path from "node:path";
import { adoptLeftovers } from "./lib/adopt";
import { dockerOrThrow, waitHealthy } from "./lib/docker";
import { finishInFlightStepsOnCtrlC } from "./lib/interrupt";
import { ensureDocker, ensureImages, stackImages } from "./lib/machine";
import { ensurePlugins } from "./lib/plugins";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources, type FoundPulumi } from "./lib/pulumi-cli";
import { NotReadyError, waitUntilReady } from "./lib/ready";
import {
  dataResourceUrns, dockerObjectsOf, dockerResourceUrns, findDockerDrift, newestBackup, recoverInterruptedRun, stackOutputsIn,
} from "./lib/recover";
import { runOperation } from "./lib/operations";
import { describeFailure, ensureSecrets, openStack, OPERATION_STREAMS, readOutputs, REPO_ROOT, stackConfigFile } from "./lib/stack";
import { envFromOutputs, type StackOutputs } from "./stack-env";

const log = (line: string) => console.log(`dev: ${line}`);

/** Runs one step, saying what it does and how long it took. */
export async function step<T>(label: string, run: () => Promise<T> | T, say: (line: string) => void = log): Promise<T> {
  say(`${label} ...`);
  const started = Date.now();
  const result = await run();
  say(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/**
 * Steps 1-4: everything `pulumi up` needs, on any machine. The CLI and the Docker side are
 * independent, so they are brought side by side (on a machine without internet both are builds).
 */
export async function prepare(stackName: string): Promise<{ stack: Stack; pulumi: FoundPulumi }> {
  const [pulumi] = await Promise.all([
    step("1/6 Pulumi CLI", async () => {
      const found = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
      log(`using pulumi ${found.command.version} (${found.source}: ${found.command.command})`);
      return found;
    }),
    (async () => {
      await step("2/6 Docker daemon", async () => log(`Docker daemon ${await ensureDocker(log)}`));
      await step("3/6 images", async () => {
        for (const [image, source] of Object.entries(await ensureImages(stackImages(stackName), log))) log(`${image}: ${source}`);
      });
    })(),
  ]);
  const stack = await step("4/6 stack, secrets and plugins", async () => {
    const opened = await openStack(stackName, { pulumi: pulumi.command, env: engineEnv(pulumi), log });
    const stackFile = path.relative(REPO_ROOT, stackConfigFile(REPO_ROOT, stackName));
    for (const key of await ensureSecrets(opened)) log(`generated ${key} (stored encrypted in ${stackFile}, this clone's own)`);
    await ensurePlugins(opened.workspace, { canDownload: !pulumi.offline, log });
    return opened;
  });
  return { stack, pulumi };
}

/**
 * `pulumi up`, converging from whatever state the machine is in: first a lock of a run that is gone,
 * operations a killed run left pending, the stack's Docker objects this state does not know (adopted,
 * scripts/lib/adopt.ts), and the Docker objects (stopped containers started, missing ones re-read so
 * the up recreates them). Nothing reads the seed until the containers are back
 * (Directus may be what is missing); then `--refresh` refreshes everything, and a database that came
 * back new has its migrations and seed re-read and applied again.
 */
export async function upConverging(stack: Stack, stackName: string, options: { refresh: boolean }): Promise<StackOutputs> {
  const streams = OPERATION_STREAMS;
  const state = await recoverInterruptedRun(stack, log);
  await adoptLeftovers(stack, state, log);
  const objects = dockerObjectsOf(stackOutputsIn(state));
  const drift = findDockerDrift(objects);
  for (const name of drift.stopped) {
    dockerOrThrow(["start", name]);
    log(`started ${name}: it was stopped`);
  }
  for (const name of drift.stopped) waitHealthy(name, CONTAINER_START_TIMEOUT_SECONDS);
  if (drift.dataVolumeLost) warnDataLost(stackName);
  const recovering = drift.missing.length > 0;
  if (recovering) {
    log(`missing in Docker: ${drift.missing.join(", ")}: re-reading the stack's containers, network and volumes so this up recreates them`);
    await runOperation(stack, "refresh", { ...streams, target: await dockerResourceUrns(stack) });
  }
  await runOperation(stack, "up", { ...streams, refresh: options.refresh && !recovering });
  if (recovering && options.refresh) {
    await runOperation(stack, "up", { ...streams, refresh: true });
  } else if (drift.dataVolumeLost || drift.missing.includes(objects.databaseContainer ?? "")) {
    log("the database container is new: re-reading its migrations and seed, then applying what it lacks");
    await runOperation(stack, "refresh", { ...streams, target: await dataResourceUrns(stack) });
    await runOperation(stack, "up", streams);
  }
  return readOutputs<StackOutputs>(stack);
}

/** A container that was stopped boots again: migrations and schema checks, then Directus. */
const CONTAINER_START_TIMEOUT_SECONDS = 300;

function warnDataLost(stackName: string): void {
  const dump = newestBackup(path.join(REPO_ROOT, "backups"), stackName);
  log("!! DATA LOST: the database's data volume is gone, so the database starts empty; it is migrated and seeded again now.");
  log(
    dump
      ? `!! The newest dump is ${path.relative(REPO_ROOT, dump)}: \`npm run db:restore -- ${path.relative(REPO_ROOT, dump)}\` puts it back.`
      : "!! There is no dump of this stack in backups/ (npm run dev:down writes one).",
  );
}

/** Waits until the stack is ready (database, Directus health, the seed through the API); throws saying what is not. */
export async function ensureReady(outputs: StackOutputs & { seededCounts?: Record<string, number> }): Promise<void> {
  const env = envFromOutputs(outputs);
  const target = {
    db: { host: env.DB_HOST, port: Number(env.DB_PORT), database: env.DB_DATABASE, user: env.DB_USER, password: env.DB_PASSWORD },
    directusUrl: env.DIRECTUS_URL,
    admin: { email: env.DIRECTUS_ADMIN_EMAIL, password: env.DIRECTUS_ADMIN_PASSWORD },
    seededEvents: outputs.seededCounts?.events,
    directusContainer: outputs.directusContainer, log, // a failed start-up ends the wait; the schema drift is printed once ready (H2, issue 26)
  };
  const checks = await waitUntilReady(target, READY_TIMEOUT_SECONDS);
  if (checks.every((c) => c.ok)) return;
  throw new NotReadyError(checks, READY_TIMEOUT_SECONDS, [
    `logs: docker logs ${outputs.directusContainer}; docker logs ${outputs.databaseContainer}`,
    "after fixing the cause: npm run dev (it repairs what it finds); drift of the seeded items: npm run dev -- --refresh",
  ]);
}

/** A container `npm run dev` just started may still be booting. */
const READY_TIMEOUT_SECONDS = 120;

/** Steps 1-6: what `npm run dev` does, and how `npm run dev:reset` ends. */
export async function devUp(stackName: string, options: { refresh: boolean }): Promise<void> {
  const { stack } = await prepare(stackName);
  const outputs = await step(`5/6 pulumi up${options.refresh ? " --refresh" : ""}`, () => upConverging(stack, stackName, options));
  await step("6/6 ready check", () => ensureReady(outputs));
  log(`ready: Directus at ${outputs.directusUrl} (admin ${outputs.adminEmail}; password: npm run stack -- admin-password)`);
}

async function main(): Promise<void> {
  const stackName = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  finishInFlightStepsOnCtrlC(log);
  if (process.argv.includes("--prepare-only")) {
    await prepare(stackName);
    return;
  }
  await devUp(stackName, { refresh: process.argv.includes("--refresh") });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`dev: ERROR ${describeFailure(error)}`);
    process.exitCode = process.exitCode || 1;
  });
}
