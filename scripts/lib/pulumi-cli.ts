/**
 * Finds the Pulumi CLI the project pins, or brings it: a `pulumi` on PATH at that version or newer,
 * else one installed earlier into the cache, else the Automation API's installer (get.pulumi.com)
 * into the cache, else (machines without internet) the CLI built from its Go module by
 * offline/pulumi-toolchain.sh. The program runs inline (scripts/lib/stack.ts): no language host.
 */
import { PulumiCommand } from "@pulumi/pulumi/automation";
import os from "node:os";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { runScript } from "./machine";
import { ensurePlugins } from "./plugins";
import { recoverInterruptedRun } from "./recover";
import { DEFAULT_PROGRAM, loadProgram, openStack, REPO_ROOT, type StackOptions } from "./stack";

export type PulumiSource = "path" | "cache" | "built" | "download" | "offline";

export interface FoundPulumi {
  command: PulumiCommand;
  source: PulumiSource;
  /** Set when get.pulumi.com could not be reached: plugins cannot be downloaded either. */
  offline: boolean;
}

/** The ways to get a CLI, injectable so the decision is testable without network or Go. */
export interface PulumiSources {
  /** `pulumi` on PATH, if it runs and is at least `version`. */
  onPath(version: string): Promise<PulumiCommand | undefined>;
  /** A CLI installed into `root` before. */
  installed(root: string, version: string): Promise<PulumiCommand | undefined>;
  /** A CLI offline/pulumi-toolchain.sh built before (nothing is built). */
  builtBefore(): Promise<PulumiCommand | undefined>;
  /** Download and install into `root` (throws where get.pulumi.com cannot be reached). */
  download(root: string, version: string): Promise<PulumiCommand>;
  /** Build the CLI with offline/pulumi-toolchain.sh (or take its cache); returns the CLI in its bin dir. */
  buildOffline(): Promise<PulumiCommand>;
}

const TOOLCHAIN = path.join(REPO_ROOT, "offline", "pulumi-toolchain.sh");

export function pinnedPulumiVersion(): string {
  return require(path.join(REPO_ROOT, "package.json")).dependencies["@pulumi/pulumi"];
}

export function pulumiCacheRoot(version: string): string {
  return path.join(process.env.TRM_CACHE_DIR || path.join(os.homedir(), ".cache", "trm"), `pulumi-${version}`);
}

export async function findPulumi(
  version: string,
  sources: PulumiSources,
  log: (line: string) => void,
): Promise<FoundPulumi> {
  const root = pulumiCacheRoot(version);
  const onPath = await sources.onPath(version);
  if (onPath) return { command: onPath, source: "path", offline: false };
  const installed = await sources.installed(root, version);
  if (installed) return { command: installed, source: "cache", offline: false };
  // built from the Go module proxy on an earlier run: this machine had no get.pulumi.com then
  const built = await sources.builtBefore();
  if (built) return { command: built, source: "built", offline: false };
  log(`no Pulumi CLI ${version} on PATH: installing it into ${root} (get.pulumi.com)`);
  try {
    return { command: await sources.download(root, version), source: "download", offline: false };
  } catch (error) {
    log(`cannot download the Pulumi CLI (${firstLine(error)}): this machine looks offline`);
  }
  log("building the Pulumi CLI from the Go module proxy (offline/pulumi-toolchain.sh; cached, ~12 min the first time)");
  return { command: await sources.buildOffline(), source: "offline", offline: true };
}

export const realPulumiSources: PulumiSources = {
  async onPath(version) {
    return atLeast(await PulumiCommand.get({ skipVersionCheck: true }).catch(() => undefined), version);
  },
  async installed(root, version) {
    return atLeast(await PulumiCommand.get({ root, skipVersionCheck: true }).catch(() => undefined), version);
  },
  async download(root, version) {
    // The installer takes the version of the @pulumi/pulumi SDK, which package.json pins to `version`.
    return atLeast(await PulumiCommand.install({ root }), version) ?? Promise.reject(new Error(`the installed CLI is not ${version}`));
  },
  async builtBefore() {
    const binDir = await runScript(TOOLCHAIN, { captureStdout: true, args: ["--cached-only"], quiet: true }).catch(() => undefined);
    return binDir ? PulumiCommand.get({ root: path.dirname(binDir), skipVersionCheck: true }) : undefined;
  },
  async buildOffline() {
    const binDir = await runScript(TOOLCHAIN, { captureStdout: true });
    // PulumiCommand puts <root>/bin first on PATH for every command: the dynamic-provider host there is found.
    return PulumiCommand.get({ root: path.dirname(binDir), skipVersionCheck: true });
  },
};

/** Env the engine runs with: without internet it never tries to download a plugin (ensurePlugins said what is missing). */
export function engineEnv(pulumi: FoundPulumi): NodeJS.ProcessEnv {
  return { ...process.env, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: String(pulumi.offline) };
}

/**
 * The CLI (found or brought) and the stack, for scripts that work on an existing stack; with
 * `program: false` for what only reads outputs or config.
 */
export async function selectStack(stackName: string, log: (line: string) => void, options: Pick<StackOptions, "program"> = {}): Promise<Stack> {
  const pulumi = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
  return openStack(stackName, { pulumi: pulumi.command, env: engineEnv(pulumi), log, ...options });
}

function atLeast(command: PulumiCommand | undefined, version: string): PulumiCommand | undefined {
  return command?.version && command.version.compare(version) >= 0 ? command : undefined;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0];
}

/**
 * The stack ready for an operation (up, preview, refresh, destroy): the CLI, the program inline, the
 * provider plugins the whole program needs (the e2e's engine program needs none), and what an
 * interrupted run left behind cleared.
 */
export async function stackForOperation(stackName: string, log: (line: string) => void, program = DEFAULT_PROGRAM): Promise<Stack> {
  const finding = findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
  finding.catch(() => undefined); // awaited below; a program that fails to load is the error to report
  // loaded (and kept in require's cache for openStack) while the CLI's version check runs in its process
  loadProgram(path.join(REPO_ROOT, program));
  const pulumi = await finding;
  const stack = await openStack(stackName, { pulumi: pulumi.command, env: engineEnv(pulumi), program, log });
  // Independent (the plugin cache, the stack's state): side by side, each let finish before a failure is thrown.
  const checks = await Promise.allSettled([
    program === DEFAULT_PROGRAM ? ensurePlugins(stack.workspace, { canDownload: !pulumi.offline, log }) : undefined,
    recoverInterruptedRun(stack, log),
  ]);
  for (const check of checks) if (check.status === "rejected") throw check.reason;
  return stack;
}
