/**
 * Sets a stack's dbPort and directusPort to ports that are free on this machine right now, so a CI
 * dry-run never collides with a dev stack or another job's containers on the same runner.
 *   tsx scripts/ci-ports.ts <stack>
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { freePorts } from "../lib/free-port";
import { selectStack } from "./lib/pulumi-cli";

export async function useFreePorts(stack: Stack): Promise<{ dbPort: number; directusPort: number }> {
  const [dbPort, directusPort] = await freePorts(2);
  await stack.setAllConfig({ dbPort: { value: String(dbPort) }, directusPort: { value: String(directusPort) } });
  return { dbPort, directusPort };
}

if (require.main === module) {
  const stackName = process.argv[2] ?? "ci";
  selectStack(stackName, (line) => console.log(`ci-ports: ${line}`), { program: false })
    .then(useFreePorts)
    .then(({ dbPort, directusPort }) => console.log(`ci-ports: ${stackName} uses dbPort ${dbPort}, directusPort ${directusPort}`))
    .catch((error: Error) => {
      console.error(`ci-ports: ERROR ${error.message}`);
      process.exitCode = 1;
    });
}
