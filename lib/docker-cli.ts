/**
 * The Docker CLI for the dynamic providers (their code is serialized into the state and runs in
 * Pulumi's provider host): the daemon the CLI talks to (DOCKER_HOST, or the local socket) is the one
 * @pulumi/docker drives, and the CLI must be on PATH where Pulumi runs.
 */
import { spawnSync } from "node:child_process";

/** `docker <args>`'s trimmed stdout; throws with Docker's own message unless its stderr matches `allowed`. */
export function dockerCli(args: string[], allowed: RegExp = /$^/): string {
  const result = spawnSync("docker", args, { encoding: "utf8" });
  if (result.error) throw new Error(`docker ${args.join(" ")}: ${result.error.message} (the Docker CLI must be on PATH)`);
  const stderr = (result.stderr ?? "").trim();
  if (result.status !== 0 && !allowed.test(stderr)) throw new Error(`docker ${args.join(" ")} failed: ${stderr}`);
  return (result.stdout ?? "").trim();
}

/** A container's last `tail` log lines, its stdout and stderr together; empty when Docker has no such container. */
export function dockerLogs(container: string, tail: number): string {
  const result = spawnSync("docker", ["logs", "--tail", String(tail), container], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  return `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim();
}
