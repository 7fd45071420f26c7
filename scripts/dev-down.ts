/**
 * npm run dev:down [-- <stack>]: `pulumi destroy`, keeping the data and uploads volumes
 * (they are retained on delete by default).
 * npm run dev:reset [-- <stack>]: destroy, remove the volumes too, then `pulumi up` again.
 */
import { spawnSync } from "node:child_process";
import { pulumi, pulumiOrThrow } from "./lib/pulumi";
import { prepareStack } from "./dev";

function stackVolumes(stack: string): string[] {
  const result = pulumi(["stack", "output", "volumes", "--json", "--stack", stack], { capture: true });
  if (result.status !== 0 || !result.stdout.trim()) return [];
  return Object.values(JSON.parse(result.stdout) as Record<string, string>);
}

function main(): void {
  const reset = process.argv.includes("--reset");
  const stack = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  const volumes = stackVolumes(stack);
  pulumiOrThrow(["destroy", "--yes", "--stack", stack, "--non-interactive"]);
  if (!reset) {
    if (volumes.length > 0) console.log(`dev:down: kept volumes ${volumes.join(", ")} (npm run dev:reset removes them)`);
    return;
  }
  for (const volume of volumes) {
    const rm = spawnSync("docker", ["volume", "rm", volume], { stdio: "inherit" });
    if (rm.status !== 0) throw new Error(`could not remove volume ${volume}`);
  }
  prepareStack(stack);
  pulumiOrThrow(["up", "--yes", "--stack", stack, "--non-interactive"]);
}

try {
  main();
} catch (error) {
  console.error(`dev:down: ERROR ${(error as Error).message}`);
  process.exitCode = 1;
}
