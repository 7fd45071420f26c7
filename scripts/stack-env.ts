/**
 * npm run stack -- <npm-script> [args...]: runs one of our CLIs against a stack's containers,
 * with DB_* and DIRECTUS_* taken from the stack's outputs (TRM_STACK, default dev). Examples:
 *   npm run stack -- db:init db-init
 *   npm run stack -- schema:snapshot
 *   npm run stack -- schema:apply
 */
import { spawnSync } from "node:child_process";
import { pulumiOrThrow } from "./lib/pulumi";

interface StackOutputs {
  directusUrl: string;
  adminEmail: string;
  databaseHost: string;
  databasePort: number;
  databaseName: string;
  databaseUser: string;
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
  };
}

function main(): void {
  const [script, ...args] = process.argv.slice(2);
  if (!script) throw new Error("name the npm script to run, e.g. npm run stack -- db:init db-init");
  const stack = process.env.TRM_STACK ?? "dev";
  const outputs = JSON.parse(
    pulumiOrThrow(["stack", "output", "--json", "--show-secrets", "--stack", stack], { capture: true }),
  ) as StackOutputs;
  const run = spawnSync("npm", ["run", "--silent", script, "--", ...args], {
    stdio: "inherit",
    env: { ...process.env, ...envFromOutputs(outputs) },
  });
  process.exitCode = run.status ?? 1;
}

try {
  main();
} catch (error) {
  console.error(`stack: ERROR ${(error as Error).message}`);
  process.exitCode = 1;
}
