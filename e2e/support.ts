/** Helpers for the end-to-end run: a throwaway copy of the project, the toolchain, Docker. */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

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

/** The last stdout line of a script that prints a path there (the toolchain script does). */
export function lastLine(output: string): string {
  return output.trim().split("\n").pop()!.trim();
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

/**
 * Env for the Pulumi CLI in a project copy: the given bin dirs first on PATH (toolchain, Node 22 for
 * the language host), a fresh file state backend and PULUMI_HOME inside the copy, a random passphrase.
 */
export function engineEnv(project: string, binDirs: string[], acquirePlugins: boolean): NodeJS.ProcessEnv {
  mkdirSync(path.join(project, ".pulumi-state"), { recursive: true });
  return {
    ...process.env,
    PATH: [...binDirs, process.env.PATH].join(path.delimiter),
    PULUMI_BACKEND_URL: `file://${path.join(project, ".pulumi-state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
    PULUMI_HOME: path.join(project, ".pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: String(!acquirePlugins),
    NODE_OPTIONS: "",
  };
}
