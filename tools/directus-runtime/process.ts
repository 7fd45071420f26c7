/** Child processes of the runtime: run and capture, run or throw with the output's tail. */
import { spawn } from "node:child_process";

export const OUTPUT_TAIL_CHARS = 20_000;

export function runCapture(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

export async function runOrThrow(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runCapture(command, args, cwd, env);
  if (result.code !== 0) {
    throw new Error(`directus-runtime: \`${command} ${args.join(" ")}\` failed (exit ${result.code}) in ${cwd}:\n${result.output.slice(-OUTPUT_TAIL_CHARS)}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
