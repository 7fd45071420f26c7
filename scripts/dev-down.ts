/**
 * npm run dev:down [-- <stack>]: `pulumi destroy`, keeping the data and uploads volumes (retained on
 * delete by default) after the database was dumped to backups/ (config backupOnDestroy).
 * npm run dev:reset [-- <stack>]: the same, then removes both volumes and ends as `npm run dev` does
 * (its convergence and its ready check): a fresh database. The dump written on the way down is the
 * way back (npm run db:restore).
 */
import { spawnSync } from "node:child_process";
import { devUp, step } from "./dev";
import { stackDockerNames } from "./lib/adopt";
import { docker } from "./lib/docker";
import { finishInFlightStepsOnCtrlC } from "./lib/interrupt";
import { runOperation } from "./lib/operations";
import { stackForOperation } from "./lib/pulumi-cli";
import { describeFailure, OPERATION_STREAMS, readOutputs } from "./lib/stack";

const log = (line: string) => console.log(`dev:down: ${line}`);

async function main(): Promise<void> {
  finishInFlightStepsOnCtrlC(log);
  const reset = process.argv.includes("--reset");
  const stackName = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  const stack = await stackForOperation(stackName, log);
  const outputs = await readOutputs<{ volumes?: Record<string, string> }>(stack);
  const volumes = Object.values(outputs.volumes ?? {});
  await step("pulumi destroy", () => runOperation(stack, "destroy", OPERATION_STREAMS), log);
  if (!reset) {
    if (volumes.length > 0) log(`kept volumes ${volumes.join(", ")} (npm run dev:reset removes them)`);
    return;
  }
  for (const volume of volumes) {
    const rm = spawnSync("docker", ["volume", "rm", volume], { stdio: "inherit" });
    if (rm.status !== 0) throw new Error(`could not remove volume ${volume}: is a container still using it? (docker ps -a)`);
    log(`removed volume ${volume}`);
  }
  const notOurs = keptVolumesNotInState(stackName, volumes);
  if (notOurs.length > 0) {
    log(`${notOurs.join(", ")}: not this state's (no dump of them was written), so kept: npm run dev adopts them; run dev:reset after it to reset them`);
  }
  await devUp(stackName, { refresh: false });
}

/** The stack's volumes in Docker that the state did not name (left by another state or clone). */
function keptVolumesNotInState(stackName: string, removed: string[]): string[] {
  const { data, uploads } = stackDockerNames(stackName);
  return [data, uploads].filter((name) => !removed.includes(name) && docker(["volume", "inspect", name]).ok);
}

main().catch((error: unknown) => {
  console.error(`dev:down: ERROR ${describeFailure(error)}`);
  process.exitCode = process.exitCode || 1;
});
