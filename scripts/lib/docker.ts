/** The Docker CLI for the scripts, the e2e suite and the benchmarks. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface DockerResult {
  ok: boolean;
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `docker <args>`; stdin is `input` (text), or an open file descriptor (a large file, not read
 * into memory). `env` adds variables for the CLI: `-e NAME` without a value passes a secret that way,
 * never on a command line.
 */
export function docker(args: string[], options: { input?: string; stdinFd?: number; env?: Record<string, string> } = {}): DockerResult {
  const [command, argv] = outOfTerminalReach("docker", args);
  const result = spawnSync(command, argv, {
    encoding: "utf8",
    env: options.env ? { ...process.env, ...options.env } : process.env,
    input: options.input,
    stdio: [options.stdinFd ?? "pipe", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { ok: result.status === 0, status: result.status ?? 1, stdout: (result.stdout ?? "").trim(), stderr: (result.stderr ?? "").trim() };
}

/**
 * The command in a session of its own where util-linux's setsid exists (Linux): Ctrl-C in the
 * terminal then interrupts the script, which lets the step in flight finish (scripts/lib/interrupt.ts).
 */
export function outOfTerminalReach(command: string, args: string[]): [string, string[]] {
  return SETSID ? [SETSID, ["--wait", command, ...args]] : [command, args];
}
const SETSID = ["/usr/bin/setsid", "/bin/setsid"].find((file) => existsSync(file));

/** `docker <args>`, throwing with Docker's own message when it fails. */
export function dockerOrThrow(args: string[], options: Parameters<typeof docker>[1] = {}): string {
  const result = docker(args, options);
  if (!result.ok) throw new Error(`docker ${args.slice(0, 2).join(" ")} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** Waits until Docker reports the container running and healthy; fails early when it exits, with its last log lines. */
export function waitHealthy(container: string, timeoutSeconds: number): void {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const status = docker(["inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container]).stdout;
    if (status === "running healthy") return;
    if (/^(exited|restarting|dead)/.test(status) || Date.now() > deadline) { // a failed start-up restarting under a policy stops the wait too
      const logs = docker(["logs", "--tail", "40", container]);
      throw new Error(`${container} is "${status || "missing"}" after ${timeoutSeconds} s:\n${logs.stdout}\n${logs.stderr}`);
    }
    spawnSync("sleep", ["1"]);
  }
}
