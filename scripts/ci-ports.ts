/**
 * Sets a stack's dbPort and directusPort to ports that are free on this machine right now, so a CI
 * dry-run never collides with a dev stack or another job's containers on the same runner.
 *   tsx scripts/ci-ports.ts <stack>
 */
import { freePort } from "../lib/free-port";
import { pulumiOrThrow } from "./lib/pulumi";

async function main(): Promise<void> {
  const stack = process.argv[2] ?? "ci";
  const [dbPort, directusPort] = [await freePort(), await freePort()];
  pulumiOrThrow(["config", "set", "dbPort", String(dbPort), "--stack", stack], { capture: true });
  pulumiOrThrow(["config", "set", "directusPort", String(directusPort), "--stack", stack], { capture: true });
  console.log(`ci-ports: ${stack} uses dbPort ${dbPort}, directusPort ${directusPort}`);
}

main().catch((error: Error) => {
  console.error(`ci-ports: ERROR ${error.message}`);
  process.exitCode = 1;
});
