/**
 * npm run dev:down [-- <stack>]: `pulumi destroy`, keeping the data and uploads volumes (retained on
 * delete by default) after the database was dumped to backups/ (config backupOnDestroy).
 * npm run dev:reset [-- <stack>]: the same, then removes both volumes and runs `npm run dev` again:
 * a fresh database. The dump written on the way down is the way back (npm run db:restore).
 */
import { spawnSync } from "node:child_process";
import { prepare, step } from "./dev";
import { finishInFlightStepsOnCtrlC } from "./lib/interrupt";
import { stackForOperation } from "./lib/pulumi-cli";
import { describeFailure, readOutputs, streamErrors, streamOutput } from "./lib/stack";

const log = (line: string) => console.log(`dev:down: ${line}`);

async function main(): Promise<void> {
  finishInFlightStepsOnCtrlC(log);
  const reset = process.argv.includes("--reset");
  const stackName = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  const stack = await stackForOperation(stackName, log);
  const outputs = await readOutputs<{ volumes?: Record<string, string> }>(stack);
  const volumes = Object.values(outputs.volumes ?? {});
  await step("pulumi destroy", () => stack.destroy({ onOutput: streamOutput, onError: streamErrors }), log);
  if (!reset) {
    if (volumes.length > 0) log(`kept volumes ${volumes.join(", ")} (npm run dev:reset removes them)`);
    return;
  }
  for (const volume of volumes) {
    const rm = spawnSync("docker", ["volume", "rm", volume], { stdio: "inherit" });
    if (rm.status !== 0) throw new Error(`could not remove volume ${volume}: is a container still using it? (docker ps -a)`);
    log(`removed volume ${volume}`);
  }
  const { stack: fresh } = await prepare(stackName);
  await step("pulumi up", () => fresh.up({ onOutput: streamOutput, onError: streamErrors }), log);
}

main().catch((error: unknown) => {
  console.error(`dev:down: ERROR ${describeFailure(error)}`);
  process.exitCode = process.exitCode || 1;
});
