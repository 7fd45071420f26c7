/**
 * npm run pulumi -- <up|preview|refresh|destroy> [--stack dev] [--diff] [--refresh] [--expect-no-changes]
 *                   [--program index.ts] [--result FILE] [--events FILE]
 * npm run pulumi -- <any other pulumi command and flags>     e.g. stack output --stack dev, cancel, plugin ls
 *
 * The project's `pulumi`: the pinned CLI (found or brought, scripts/lib/pulumi-cli.ts) on the project's
 * state backend and passphrase. The four operations run the program inline through the Automation API,
 * so they work where no Node.js language host is installed; anything else goes to the CLI as it is.
 * --program runs another program module of the project (the e2e suites' engine program);
 * --result writes the operation's summary as JSON, --events the engine's events as JSON lines (the
 * e2e suites read both).
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { finishInFlightStepsOnCtrlC } from "./lib/interrupt";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources, stackForOperation } from "./lib/pulumi-cli";
import { OPERATIONS, runOperation, type Operation } from "./lib/operations";
import { DEFAULT_PROGRAM, describeFailure, OPERATION_STREAMS, pulumiEnv, REPO_ROOT } from "./lib/stack";

const log = (line: string) => console.error(`pulumi: ${line}`);

async function operationCommand(operation: Operation, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string", default: process.env.TRM_STACK ?? "dev" },
      program: { type: "string", default: DEFAULT_PROGRAM },
      diff: { type: "boolean", default: false },
      refresh: { type: "boolean", default: false },
      "expect-no-changes": { type: "boolean", default: false },
      result: { type: "string" },
      events: { type: "string" },
    },
  });
  const stack = await stackForOperation(values.stack, log, values.program);
  if (values.events) writeFileSync(values.events, "");
  const result = await runOperation(stack, operation, {
    ...OPERATION_STREAMS,
    // with the time it arrived: the stack benchmark times each resource from them
    onEvent: values.events ? (event) => appendFileSync(values.events!, `${JSON.stringify({ receivedAt: Date.now(), ...event })}\n`) : undefined,
    // preview, up: what the engine compares; refresh: only its check
    ...(operation === "destroy" ? {} : { expectNoChanges: values["expect-no-changes"] }),
    ...(operation === "up" || operation === "preview" ? { diff: values.diff, refresh: values.refresh } : {}),
  });
  if (values.result) writeFileSync(values.result, JSON.stringify(result, null, 2));
}

/** Any other command: the pinned CLI on the project's backend and passphrase, output as it prints it. */
async function passThrough(argv: string[]): Promise<number> {
  const pulumi = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
  const run = spawnSync(pulumi.command.command, argv, { stdio: "inherit", cwd: REPO_ROOT, env: pulumiEnv(REPO_ROOT, engineEnv(pulumi)) });
  return run.status ?? 1;
}

async function main(): Promise<void> {
  finishInFlightStepsOnCtrlC(log);
  const [command, ...rest] = process.argv.slice(2);
  if (!command) throw new Error(`name a pulumi command: ${OPERATIONS.join(", ")} (inline), or any other for the CLI`);
  if ((OPERATIONS as readonly string[]).includes(command)) await operationCommand(command as Operation, rest);
  else process.exitCode = await passThrough([command, ...rest]);
}

main().catch((error: unknown) => {
  console.error(`pulumi: ERROR ${describeFailure(error)}`);
  process.exitCode = process.exitCode || 1;
});
