/**
 * Sets a stack's dbPort and directusPort to ports that are free on this machine right now, so a CI
 * dry-run never collides with a dev stack or another job's containers on the same runner.
 *   tsx scripts/ci-ports.ts <stack>
 */
import net from "node:net";
import { pulumiOrThrow } from "./lib/pulumi";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

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
