/**
 * npm run stack -- <npm-script> [args...]: runs one of our CLIs against a stack's containers, with
 * DB_* and DIRECTUS_* taken from the stack's outputs (TRM_STACK, default dev). Examples:
 *   npm run stack -- db:init db-init
 *   npm run stack -- schema:snapshot
 *   npm run stack -- smoke
 *   npm run stack -- admin-password      prints the first admin's password (nothing else)
 */
import { spawnSync } from "node:child_process";
import { selectStack } from "./lib/pulumi-cli";
import { readOutputs } from "./lib/stack";

export interface StackOutputs {
  directusUrl: string;
  adminEmail: string;
  databaseHost: string;
  databasePort: number;
  databaseName: string;
  databaseUser: string;
  databaseContainer: string;
  directusContainer: string;
  portainerStack: { env: { name: string; value: string }[] };
}

export function envFromOutputs(outputs: StackOutputs): Record<string, string> {
  const secret = (name: string) => outputs.portainerStack.env.find((e) => e.name === name)?.value ?? "";
  return {
    DB_HOST: outputs.databaseHost,
    DB_PORT: String(outputs.databasePort),
    DB_DATABASE: outputs.databaseName,
    DB_USER: outputs.databaseUser,
    DB_PASSWORD: secret("DB_PASSWORD"),
    DIRECTUS_URL: outputs.directusUrl,
    DIRECTUS_ADMIN_EMAIL: outputs.adminEmail,
    DIRECTUS_ADMIN_PASSWORD: secret("ADMIN_PASSWORD"),
    TRM_DB_CONTAINER: outputs.databaseContainer,
    TRM_DIRECTUS_CONTAINER: outputs.directusContainer,
  };
}

/** The env of a stack's outputs (for scripts and tests); the stack must have been brought up. */
export async function stackEnv(stackName: string): Promise<Record<string, string>> {
  const stack = await selectStack(stackName, (line) => console.error(`stack: ${line}`), { program: false });
  const outputs = await readOutputs<StackOutputs>(stack);
  if (!outputs.directusUrl) throw new Error(`stack ${stackName} has no outputs: bring it up first (npm run dev -- ${stackName})`);
  return envFromOutputs(outputs);
}

async function main(): Promise<void> {
  const [script, ...args] = process.argv.slice(2);
  if (!script) throw new Error("name the npm script to run, e.g. npm run stack -- db:init db-init");
  const env = await stackEnv(process.env.TRM_STACK ?? "dev");
  if (script === "admin-password") {
    console.log(env.DIRECTUS_ADMIN_PASSWORD);
    return;
  }
  const run = spawnSync("npm", ["run", "--silent", script, "--", ...args], { stdio: "inherit", env: { ...process.env, ...env } });
  process.exitCode = run.status ?? 1;
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`stack: ERROR ${error.message}`);
    process.exitCode = 1;
  });
}
