/**
 * Helpers for the end-to-end suites and the stack benchmark: a throwaway copy of the project, its
 * stack, and the project's own `npm run pulumi` to run a program in it inline under the real engine.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFile, execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { SECRET_KEYS } from "../lib/stack-config";
import { useFreePorts } from "../scripts/ci-ports";
import { ensureDocker, ensureImages, stackImages } from "../scripts/lib/machine";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources } from "../scripts/lib/pulumi-cli";
import { ensureSecrets, openStack } from "../scripts/lib/stack";

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

/**
 * A copy of the project's tracked files in a temporary folder, node_modules linked: the e2e stack's
 * config file, state and build output never touch the working tree.
 */
export function projectCopy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-e2e-project-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).trim().split("\n");
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

export function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
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

  const project = projectCopy();
  const config = parse(readFileSync(path.join(project, "Pulumi.ci.yaml"), "utf8")) as { config: Record<string, string> };
  for (const [key, value] of Object.entries(overrides)) config.config[`trm-directus:${key}`] = value;
  writeFileSync(path.join(project, `Pulumi.${name}.yaml`), stringify(config));
  // The user's PULUMI_HOME (its plugin cache) stays: the whole program's plugins are there.
  const env = {
    ...engineEnv(pulumi),
    PULUMI_BACKEND_URL: `file://${path.join(project, ".pulumi-state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
    // scripts run in the copy find the same CLI first on PATH
    PATH: [path.dirname(pulumi.command.command), process.env.PATH].join(path.delimiter),
  };
  const stack = await openStack(name, { pulumi: pulumi.command, workDir: project, env, program: false });
  await ensureSecrets(stack);
  await useFreePorts(stack);
  const secrets = Object.fromEntries(await Promise.all(SECRET_KEYS.map(async (k) => [k, (await stack.getConfig(k)).value])));
  return { stack, name, project, env, secrets };
}

export interface EngineRun {
  /** What the engine printed (the operation's own output, as the CLI prints it). */
  stdout: string;
  changeSummary: Record<string, number>;
  events: EngineEvent[];
}

/**
 * `npm run pulumi -- <operation> --stack <name> [flags]` in the project copy: the program runs inline
 * in a process of its own, as a developer runs it (vitest's module transform would break the dynamic
 * providers' serialization in this process). Rejects with the whole output when it fails.
 */
export async function engineRun(target: EngineStack, operation: "up" | "preview" | "refresh" | "destroy", flags: string[] = []): Promise<EngineRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-engine-run-"));
  const [result, events] = [path.join(dir, "result.json"), path.join(dir, "events.jsonl")];
  const argv = ["run", "--silent", "pulumi", "--", operation, "--stack", target.name, "--result", result, "--events", events, ...flags];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile("npm", argv, { cwd: target.project, env: target.env, maxBuffer: 256 * 1024 * 1024 }, (error, out, err) =>
      error ? reject(new Error(`npm ${argv.join(" ")} failed (exit ${error.code}):\n${out}\n${err}`)) : resolve(out),
    ),
  );
  return {
    stdout,
    changeSummary: existsSync(result) ? JSON.parse(readFileSync(result, "utf8")).changeSummary : {},
    events: readFileSync(events, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)),
  };
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
