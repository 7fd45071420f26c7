/**
 * A health-gated redeploy: update (or create) the stack, then watch its Directus container through
 * Portainer's Docker proxy until it runs the new image and Docker calls it healthy. If it does not
 * get there (unhealthy, restarting, exited, or the wait ran out), print its last start-up lines, put
 * the stack back to the compose text and env it ran before, wait until that version is healthy, and
 * fail naming the start-up step that failed and the image running now.
 */
import type { PortainerStack } from "../compose";
import { PortainerError, portainerApi, type PortainerApi, type PortainerTarget } from "./api";
import { deployToPortainer, updateStack, type DeployOptions, type DeployResult } from "./client";
import { containerLogs, serviceContainers, type ContainerState } from "./docker-proxy";
import { composeImages } from "./pull-failure";

export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 300;
export const DIRECTUS_SERVICE = "directus";
const LOG_TAIL_LINES = 60;

export interface GateOptions {
  /** How long Directus may take to be healthy (--health-timeout). */
  timeoutMs: number;
  pollMs?: number;
  log(line: string): void;
  fetchImpl?: typeof fetch;
}

export interface RolloutResult extends DeployResult {
  image: string;
  acceptedMs: number;
  healthyMs: number;
}

/** The gate's verdict on a service's container. */
export type Verdict = { healthy: true; container: ContainerState } | { healthy: false; reason: string; container?: ContainerState };

/** The rollout failed; `rolledBack` says whether the stack runs its previous version again, healthy. */
export class RolloutError extends PortainerError {
  constructor(
    message: string,
    readonly rolledBack: boolean,
  ) {
    super(message);
    this.name = "RolloutError";
  }
}

/** Deploys `stack` (deployToPortainer), then gates on Directus; throws a RolloutError after rolling back when it is not healthy. */
export async function rolloutToPortainer(target: PortainerTarget, stack: PortainerStack, options: GateOptions & DeployOptions): Promise<RolloutResult> {
  const api = portainerApi(target, options.fetchImpl);
  const image = directusImageOf(stack.compose);
  const started = Date.now();
  const result = await deployToPortainer(target, stack, options);
  const acceptedMs = Date.now() - started;
  options.log(`Portainer accepted the ${result.action === "created" ? "new stack" : "update"} of ${result.name} in ${seconds(acceptedMs)}; waiting up to ${seconds(options.timeoutMs)} for Directus ${image} to be healthy`);
  const verdict = await waitForDirectus(api, target, result.name, image, options);
  const healthyMs = Date.now() - started - acceptedMs;
  if (verdict.healthy) {
    options.log(`Directus ${image} healthy ${seconds(healthyMs)} after the update was accepted`);
    return { ...result, image, acceptedMs, healthyMs };
  }
  const startup = await reportStartup(api, target, verdict, options.log);
  const failure = `Directus ${image} did not become healthy (${verdict.reason}); ${startup}`;
  if (!result.previous) throw new RolloutError(`${failure}. The stack ${result.name} was created by this run: there is no earlier version to roll back to`, false);
  throw await rollBack(api, target, result, result.previous, failure, options);
}

/** Polls the service's newest container on `image` until it is healthy or fails; bounded by timeoutMs. */
export async function waitForDirectus(api: PortainerApi, target: PortainerTarget, project: string, image: string, options: GateOptions): Promise<Verdict> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Verdict = { healthy: false, reason: `no ${DIRECTUS_SERVICE} container of stack ${project} runs ${image}` };
  for (;;) {
    const container = (await serviceContainers(api, target, project, DIRECTUS_SERVICE)).find((c) => c.Config.Image === image);
    if (container) {
      last = judge(container);
      if (last.healthy || !("pending" in last)) return last;
    }
    if (Date.now() >= deadline) return { ...last, healthy: false, reason: `not healthy within ${seconds(options.timeoutMs)}: ${last.healthy ? "" : last.reason}` };
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now()))));
  }
}

/** A container's state as the gate reads it; `pending` while it may still become healthy. */
export function judge(container: ContainerState): Verdict & { pending?: true } {
  const { Status, ExitCode, Health } = container.State;
  if (Status === "running" && (Health?.Status === "healthy" || !Health)) return { healthy: true, container };
  if (Health?.Status === "unhealthy") return { healthy: false, reason: "Docker reports it unhealthy", container };
  if (Status === "exited" || Status === "dead") return { healthy: false, reason: `it ${Status} with code ${ExitCode}`, container };
  if (Status === "restarting" || container.RestartCount > 0) {
    // while Docker restarts it, State.ExitCode may already be reset: the start-up step names the failure
    return { healthy: false, reason: `it is restarting (restarted ${container.RestartCount} time(s)${ExitCode ? `, last exit code ${ExitCode}` : ""})`, container };
  }
  return { healthy: false, reason: `it is ${Status}${Health ? `, health ${Health.Status}` : ""}`, container, pending: true };
}

/** Prints the container's last log lines and names the start-up step that failed. */
async function reportStartup(api: PortainerApi, target: PortainerTarget, verdict: Verdict, log: (line: string) => void): Promise<string> {
  if (!verdict.container) return "no container was started";
  const lines = await containerLogs(api, target, verdict.container, LOG_TAIL_LINES).catch((error: Error) => [`(its logs could not be read: ${error.message})`]);
  log(`the last ${lines.length} log lines of ${verdict.container.Name.replace(/^\//, "")}:`);
  for (const line of lines) log(`  | ${line}`);
  return describeStartupStep(lines);
}

/**
 * The step scripts/image/startup.sh reached: it logs "[trm-startup] ==> 3/5 schema ..." before each
 * step and "[trm-startup] FAILED at step 3/5 schema (exit 1): ..." when one fails.
 */
export function describeStartupStep(lines: string[]): string {
  const failed = [...lines].reverse().map((l) => /\[trm-startup\] FAILED at step (\d\/\d [^(]*?) \(exit (\d+)\)/.exec(l)).find(Boolean);
  if (failed) return `start-up failed at step ${failed[1]} (exit ${failed[2]})`;
  const reached = [...lines].reverse().map((l) => /\[trm-startup\] ==> (\d\/\d .*)$/.exec(l)).find(Boolean);
  return reached ? `the last start-up step it reached was ${reached[1]}` : "its logs show no start-up step";
}

async function rollBack(api: PortainerApi, target: PortainerTarget, result: DeployResult, previous: PortainerStack, failure: string, options: GateOptions): Promise<RolloutError> {
  const previousImage = directusImageOf(previous.compose);
  options.log(`rolling stack ${result.name} back to the compose text and env it ran before (Directus ${previousImage})`);
  const started = Date.now();
  try {
    await updateStack(api, target, { Id: result.id, Name: result.name }, previous, { pullImage: false });
    const verdict = await waitForDirectus(api, target, result.name, previousImage, options);
    if (!verdict.healthy) throw new Error(`the previous version did not become healthy either (${verdict.reason})`);
    options.log(`rolled back: Directus ${verdict.container.Config.Image} healthy ${seconds(Date.now() - started)} after the rollback started`);
    return new RolloutError(`${failure}. Rolled back: stack ${result.name} runs Directus ${verdict.container.Config.Image} again, healthy`, true);
  } catch (error) {
    return new RolloutError(
      `ROLLBACK FAILED, stack ${result.name} may be down: ${failure}; then putting back Directus ${previousImage} failed: ${(error as Error).message}. ` +
        `Restore it by hand in Portainer (Stacks → ${result.name} → Editor)`,
      false,
    );
  }
}

export function directusImageOf(compose: string): string {
  const image = composeImages(compose).find((i) => i.service === DIRECTUS_SERVICE)?.image;
  if (!image) throw new PortainerError(`the compose text has no ${DIRECTUS_SERVICE} service with an image`);
  return image;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
