import { spawn } from "node:child_process";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs one of our TypeScript CLIs (scripts/*.ts) the way `npm run` does, with a clean DB_* environment. */
export function runTsScript(script: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return runProcess(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, script), ...args], env);
}

export function runProcess(command: string, args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<CliResult> {
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DB_")));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...baseEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (chunk) => ((stdout += chunk), (output += chunk)));
    child.stderr.on("data", (chunk) => ((stderr += chunk), (output += chunk)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, output }));
  });
}
