/** Runs the Pulumi CLI for the npm scripts, with a local file backend and passphrase unless told otherwise. */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const STATE_DIR = path.join(REPO_ROOT, ".pulumi-state");

/**
 * Env for Pulumi: PULUMI_BACKEND_URL defaults to a file backend in .pulumi-state/ (gitignored);
 * without PULUMI_CONFIG_PASSPHRASE(_FILE) a random passphrase is kept in .pulumi-state/passphrase.
 */
export function pulumiEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION ?? "true",
    ...env,
  };
  if (!result.PULUMI_BACKEND_URL) {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    result.PULUMI_BACKEND_URL = `file://${STATE_DIR}`;
  }
  if (result.PULUMI_CONFIG_PASSPHRASE === undefined && !result.PULUMI_CONFIG_PASSPHRASE_FILE) {
    const file = path.join(STATE_DIR, "passphrase");
    if (!existsSync(file)) {
      mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
    }
    result.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  }
  return result;
}

export interface PulumiResult {
  status: number;
  stdout: string;
  /** Only when captured. */
  stderr: string;
}

/** Runs `pulumi <args>`; output streams to the terminal unless `capture` is set. */
export function pulumi(args: string[], options: { capture?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}): PulumiResult {
  const spawnOptions: SpawnSyncOptions = {
    cwd: REPO_ROOT,
    env: pulumiEnv(options.env),
    input: options.input,
    stdio: [options.input === undefined ? "inherit" : "pipe", options.capture ? "pipe" : "inherit", options.capture ? "pipe" : "inherit"],
    encoding: "utf8",
  };
  const result = spawnSync("pulumi", args, spawnOptions);
  if (result.error) {
    throw new Error(
      (result.error as NodeJS.ErrnoException).code === "ENOENT"
        ? "the Pulumi CLI is not on PATH: install Pulumi 3.276.0, or on an offline machine run " +
            "`bash scripts/pulumi-toolchain.sh` and put the directory it prints first on PATH"
        : result.error.message,
    );
  }
  return { status: result.status ?? 1, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? "") };
}

export function pulumiOrThrow(args: string[], options: Parameters<typeof pulumi>[1] = {}): string {
  const result = pulumi(args, options);
  if (result.status !== 0) {
    throw new Error(`pulumi ${args.join(" ")} failed (exit ${result.status})${result.stderr ? `: ${result.stderr.trim()}` : ""}`);
  }
  return result.stdout;
}
