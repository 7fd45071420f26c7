/**
 * npm run portainer:stack: writes the stack's Portainer stack (compose + env, from `pulumi stack
 * output`; the Directus image pinned by digest when the local Docker knows it) to
 * dist/portainer/<stack>.compose.yaml and <stack>.env.json (mode 0600: it holds secrets).
 * With PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID (and PORTAINER_STACK_NAME, default
 * trm-directus) it also creates or updates that stack through Portainer's API.
 * TRM_STACK picks the Pulumi stack (default dev).
 *
 * npm run portainer:stack -- --redeploy <image> [--health-timeout <s>]: what CI runs after pushing
 * <image>. The stack is rendered from a stack's config (TRM_STACK, default stage: Pulumi.stage.yaml
 * plus this clone's own values; nothing is brought up), Directus on <image> pinned by the digest its
 * push gave it, and updated (or created) through Portainer's API with a pull; then the rollout is
 * gated on Directus being healthy (rolled back if not, lib/portainer/rollout.ts) and the config's
 * seedFile applied through its publicUrl. The secrets the Portainer stack holds are kept; a new stack
 * gets the config's (generated where unset). With PORTAINER_WEBHOOK_URL instead (a stack Portainer
 * deploys from git) it calls that webhook. With no Portainer setting it says so and exits 0.
 *
 * npm run portainer:stack -- --promote [--health-timeout <s>]: the same rollout for TRM_STACK (default
 * prod, its settings PROD_PORTAINER_*) with the exact image stage's stack runs healthy (read through
 * stage's PORTAINER_* settings): no build, no push.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pinImage, renderPortainerStack, stackInputFromConfig, type PortainerStack } from "../lib/compose";
import { SettingsError } from "../lib/db/settings";
import { deployToPortainer, invokeStackWebhook, normalizeStackName, rolloutToPortainer, type PortainerTarget, type RolloutResult } from "../lib/portainer";
import { runningDirectusImage } from "../lib/portainer/promotion";
import { seedThroughPublicUrl } from "../lib/portainer/stack-seed";
import { DEFAULT_HEALTH_TIMEOUT_SECONDS } from "../lib/portainer/rollout";
import { validateStackConfig, type RawStackConfig, type StackConfig } from "../lib/stack-config";
import { selectStack } from "./lib/pulumi-cli";
import { ensureSecrets, readOutputs, REPO_ROOT, withoutProjectPrefix } from "./lib/stack";

const log = (line: string) => console.log(`portainer: ${line}`);

export const API_SETTINGS = ["PORTAINER_URL", "PORTAINER_API_KEY", "PORTAINER_ENDPOINT_ID"] as const;
export const DEFAULT_PORTAINER_STACK_NAME = "trm-directus";

export interface PortainerSettings {
  /** Portainer's stack API: for a stack created from text (this script). */
  api?: PortainerTarget;
  /** A stack webhook: only a stack Portainer deploys from git has one. */
  webhookUrl?: string;
}

/** The prefix of a stack's Portainer settings: none for stage (PORTAINER_URL, ...), PROD_ for prod (PROD_PORTAINER_URL, ...). */
export function settingsPrefix(stackName: string): string {
  return stackName === "stage" ? "" : `${stackName.toUpperCase()}_`;
}

/** Reads <prefix>PORTAINER_*; an empty value counts as unset (Gitea passes a missing secret as ""). */
export function readPortainerSettings(env: NodeJS.ProcessEnv, prefix = ""): PortainerSettings {
  const name = (setting: string) => `${prefix}${setting}`;
  const value = (setting: string) => env[name(setting)] || undefined;
  const webhookUrl = value("PORTAINER_WEBHOOK_URL");
  const given = API_SETTINGS.filter((setting) => value(setting)).map(name);
  if (given.length === 0) return { webhookUrl };
  const problems: string[] = [];
  const missing = API_SETTINGS.filter((setting) => !value(setting)).map(name);
  if (missing.length > 0) problems.push(`with ${given.join(", ")} set, also set ${missing.join(", ")}`);
  const endpointId = Number(value("PORTAINER_ENDPOINT_ID"));
  if (value("PORTAINER_ENDPOINT_ID") && !(Number.isInteger(endpointId) && endpointId > 0)) {
    problems.push(`${name("PORTAINER_ENDPOINT_ID")} must be the environment's numeric id (Environments in Portainer), got "${value("PORTAINER_ENDPOINT_ID")}"`);
  }
  if (webhookUrl) {
    problems.push(
      `${name("PORTAINER_WEBHOOK_URL")} is set too: keep the API settings for a stack created by npm run portainer:stack, or only the webhook for a stack Portainer deploys from git`,
    );
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return {
    api: {
      url: value("PORTAINER_URL")!,
      apiKey: value("PORTAINER_API_KEY")!,
      endpointId,
      stackName: value("PORTAINER_STACK_NAME") ?? DEFAULT_PORTAINER_STACK_NAME,
    },
  };
}

/** What redeploy needs from the machine, injectable so the flow is testable without Docker or Pulumi. */
export interface RedeployDeps {
  /** The registry digest reference (name@sha256:…) the local Docker holds for a pushed image. */
  digestOf(image: string): string | undefined;
  /** The stack's config: keys without the project prefix, secrets decrypted, missing secrets generated. */
  readConfig(stackName: string): Promise<RawStackConfig>;
  fetchImpl?: typeof fetch;
  log(line: string): void;
  /** How long Directus may take to be healthy after the update (--health-timeout). */
  healthTimeoutMs?: number;
  pollMs?: number;
  /** DIRECTUS_TOKEN: seed with this admin token instead of the admin login the stack holds. */
  directusToken?: string;
}

/** CI's redeploy after the push (see the header); returns the rollout, or undefined when nothing was asked. */
export async function redeploy(image: string, stackName: string, settings: PortainerSettings, deps: RedeployDeps): Promise<RolloutResult | undefined> {
  if (settings.webhookUrl) {
    await invokeStackWebhook(settings.webhookUrl, deps.fetchImpl);
    deps.log("called the stack's webhook (PORTAINER_WEBHOOK_URL): Portainer redeploys it from git, pulling its images, when the branch moved");
    return undefined;
  }
  if (!settings.api) {
    deps.log(`no Portainer settings (${API_SETTINGS.join(", ")}; or PORTAINER_WEBHOOK_URL for a stack Portainer deploys from git): nothing redeployed`);
    return undefined;
  }
  if (!image) throw new SettingsError(["--redeploy needs the image that was pushed (registry/name:tag)"]);
  const digestRef = deps.digestOf(image);
  if (!digestRef) throw new SettingsError([`the local Docker knows no registry digest for ${image}: push it first (docker push ${image})`]);
  return rollOut(digestRef, stackName, settings.api, deps);
}

/** Prod's redeploy by promotion: the image stage's stack runs healthy, by digest, through the same rollout. */
export async function promote(stackName: string, source: PortainerTarget, target: PortainerTarget, deps: RedeployDeps): Promise<RolloutResult> {
  const where = (t: PortainerTarget) => `${t.url.replace(/\/+$/, "")}#${t.endpointId}/${normalizeStackName(t.stackName)}`;
  if (where(source) === where(target)) {
    throw new SettingsError([`--promote: ${stackName}'s Portainer settings name stage's own stack (${where(target)}): set ${settingsPrefix(stackName)}PORTAINER_* to ${stackName}'s`]);
  }
  const image = await runningDirectusImage(source, deps.fetchImpl);
  deps.log(`stage's stack ${source.stackName} runs Directus ${image}, healthy: promoting it to ${stackName}`);
  return rollOut(image, stackName, target, deps);
}

/** Renders the stack config with Directus on `digestRef`, rolls it out gated on health, then seeds it. */
async function rollOut(digestRef: string, stackName: string, target: PortainerTarget, deps: RedeployDeps): Promise<RolloutResult> {
  const config = portainerStackConfig(stackName, await deps.readConfig(stackName));
  const stack = renderPortainerStack(stackInputFromConfig(config, digestRef));
  const result = await rolloutToPortainer(target, stack, {
    keepExistingSecrets: true,
    fetchImpl: deps.fetchImpl,
    timeoutMs: deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_SECONDS * 1000,
    pollMs: deps.pollMs,
    log: deps.log,
  });
  deps.log(describeDeploy(result, target));
  if (!config.seedFile) {
    deps.log(`stack ${stackName}: seedFile is empty, nothing seeded`);
    return result;
  }
  const seedFile = path.resolve(REPO_ROOT, config.seedFile);
  await seedThroughPublicUrl({ stackName, publicUrl: config.directus.publicUrl, seedFile, stackEnv: result.deployed.env, token: deps.directusToken, log: deps.log, fetchImpl: deps.fetchImpl });
  return result;
}

/** The config validated; a Portainer stack is reached at its public address, so that one is required. */
function portainerStackConfig(stackName: string, raw: RawStackConfig): StackConfig {
  if (!raw.publicUrl) {
    throw new SettingsError([
      `stack ${stackName}: publicUrl is not set, and Directus on Portainer needs its public address (PUBLIC_URL): ` +
        `set trm-directus:publicUrl in Pulumi.${stackName}.yaml (or npm run pulumi -- config set publicUrl https://... --stack ${stackName})`,
    ]);
  }
  return validateStackConfig(stackName, raw);
}

function describeDeploy(result: RolloutResult, target: PortainerTarget): string {
  const where = `stack ${result.name} (id ${result.id}) on environment ${target.endpointId}`;
  const times = `accepted in ${(result.acceptedMs / 1000).toFixed(1)} s, Directus healthy ${(result.healthyMs / 1000).toFixed(1)} s later`;
  if (result.action === "created") {
    return `${where} created with Directus ${result.image} (${times}); its secrets are the stack config's, and Portainer holds them (Stacks → ${result.name} → Environment variables)`;
  }
  const kept = result.keptSecrets.length > 0 ? `; kept the secrets it holds (${result.keptSecrets.join(", ")})` : "";
  return `${where} updated to Directus ${result.image}, images pulled (${times})${kept}`;
}

function localDigest(image: string): string | undefined {
  const inspect = spawnSync("docker", ["image", "inspect", "--format", "{{json .RepoDigests}}", image], { encoding: "utf8" });
  if (inspect.status !== 0) return undefined;
  const digests = JSON.parse(inspect.stdout) as string[];
  const repo = image.replace(/:[^/:]+$/, "");
  return digests.find((d) => d.startsWith(`${repo}@`));
}

/** The stack's config as the program reads it: the team's settings added, missing secrets generated. */
async function readConfigOf(stackName: string): Promise<RawStackConfig> {
  const stack = await selectStack(stackName, log, { program: false });
  await ensureSecrets(stack);
  const config = await stack.getAllConfig();
  return withoutProjectPrefix(Object.fromEntries(Object.entries(config).map(([key, v]) => [key, v.value])));
}

/** The default mode: from the stack's outputs to dist/portainer/, and to Portainer when its API is set. */
async function writeFromOutputs(stackName: string, target: PortainerTarget | undefined): Promise<void> {
  const outputs = await readOutputs<{ portainerStack: PortainerStack; registryImage: string }>(
    await selectStack(stackName, (line) => console.error(`portainer: ${line}`), { program: false }),
  );
  const stack = pinImage(outputs.portainerStack, outputs.registryImage, localDigest(outputs.registryImage));

  const dir = path.join(REPO_ROOT, "dist", "portainer");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${stackName}.compose.yaml`), stack.compose);
  writeFileSync(path.join(dir, `${stackName}.env.json`), JSON.stringify(stack.env, null, 2), { mode: 0o600 });
  log(`wrote dist/portainer/${stackName}.compose.yaml and ${stackName}.env.json`);

  if (target) {
    const result = await deployToPortainer(target, stack);
    log(`stack ${result.name} ${result.action} (id ${result.id}) on environment ${target.endpointId}`);
  }
}

function healthTimeoutMs(value: string | undefined): number {
  const secondsGiven = Number(value ?? DEFAULT_HEALTH_TIMEOUT_SECONDS);
  if (!(secondsGiven > 0)) throw new SettingsError([`--health-timeout must be a number of seconds above 0, got "${value}"`]);
  return secondsGiven * 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { redeploy: { type: "string" }, promote: { type: "boolean" }, "health-timeout": { type: "string" } } });
  const gate = { healthTimeoutMs: healthTimeoutMs(values["health-timeout"]), directusToken: process.env.DIRECTUS_TOKEN || undefined };
  const deps = { digestOf: localDigest, readConfig: readConfigOf, log, ...gate };
  if (values.promote) {
    const stackName = process.env.TRM_STACK || "prod";
    const source = readPortainerSettings(process.env).api;
    const target = readPortainerSettings(process.env, settingsPrefix(stackName)).api;
    if (!source || !target) {
      throw new SettingsError([`--promote needs stage's ${API_SETTINGS.join(", ")} and ${stackName}'s ${API_SETTINGS.map((s) => settingsPrefix(stackName) + s).join(", ")}`]);
    }
    await promote(stackName, source, target, deps);
    return;
  }
  if (values.redeploy === undefined) return writeFromOutputs(process.env.TRM_STACK ?? "dev", readPortainerSettings(process.env).api);
  const stackName = process.env.TRM_STACK || "stage";
  await redeploy(values.redeploy, stackName, readPortainerSettings(process.env, settingsPrefix(stackName)), deps);
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`portainer: ERROR ${error.message}`);
    process.exitCode = 1;
  });
}
