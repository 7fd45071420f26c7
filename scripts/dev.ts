/**
 * npm run dev [-- <stack>] [--prepare-only]: stands up a stack (default dev) with one command.
 * First run: local file state backend, the stack, generated secrets; then `pulumi up`.
 * Also used by CI (stack ci) and the end-to-end test, with their own backend and passphrase.
 */
import { randomBytes } from "node:crypto";
import { SECRET_KEYS } from "../lib/stack-config";
import { pulumi, pulumiOrThrow } from "./lib/pulumi";

const GENERATORS: Record<(typeof SECRET_KEYS)[number], () => string> = {
  // letters and digits guaranteed, so the weak-password check never trips on a generated one
  adminPassword: () => `Trm${randomBytes(18).toString("base64url")}9`,
  dbPassword: () => randomBytes(24).toString("base64url"),
  directusKey: () => randomBytes(32).toString("hex"),
  directusSecret: () => randomBytes(32).toString("hex"),
};

/** Selects (creating if needed) the stack and sets every missing secret; never prints a value. */
export function prepareStack(stack: string): void {
  pulumiOrThrow(["stack", "select", "--create", stack, "--non-interactive"], { capture: true });
  for (const key of SECRET_KEYS) {
    const present = pulumi(["config", "get", key, "--stack", stack], { capture: true }).status === 0;
    if (present) continue;
    pulumiOrThrow(["config", "set", "--secret", key, "--stack", stack, "--non-interactive"], {
      input: GENERATORS[key](),
      capture: true,
    });
    console.log(`dev: generated ${key} (stored encrypted in Pulumi.${stack}.yaml)`);
  }
}

function main(): void {
  const stack = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  prepareStack(stack);
  if (process.argv.includes("--prepare-only")) return;
  const up = pulumi(["up", "--yes", "--stack", stack, "--non-interactive"]);
  process.exitCode = up.status;
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`dev: ERROR ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
