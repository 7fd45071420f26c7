/**
 * The scripts' Pulumi operations (up, preview, refresh, destroy) through the Automation API, without
 * the time it spends around them:
 * - After `up`, `refresh` and `destroy` the Automation API asks the CLI three more things, one after
 *   the other: the outputs masked, the outputs in plain text, the last history entry (~0.9 s, a Go
 *   process and a state read each). The scripts take the change counts from the engine's own summary
 *   event instead, and read the outputs (one CLI call, readOutputs) only where they use them.
 *
 * It hangs on the CLI the workspace runs (`operationCli`). PulumiCommand's `run` is internal to the
 * SDK (pinned exactly in package.json); were it ever gone, operations run as the SDK runs them, only
 * slower (test/pulumi-scripts.test.ts fails on the pinned version if the hook does not take).
 */
import type { EngineEvent, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

export const OPERATIONS = ["up", "preview", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The CLI calls the Automation API makes once an operation is over: `stack output`, `stack history`. */
const isFollowUp = (args: string[]) => args[0] === "stack" && (args[1] === "output" || args[1] === "history");

/** Thrown, and caught by runOperation, in place of a follow-up call nobody reads. */
class FollowUpDeclined extends Error {
  constructor(args: string[]) {
    super(`pulumi ${args.slice(0, 2).join(" ")}: not needed after this operation`);
  }
}

interface CliHooks {
  /** Set by runOperation for the span of one operation. */
  declineFollowUps: boolean;
  /** The operation's CLI process ended with success: what follows are follow-ups. */
  operationDone: boolean;
}

const hooksOfCli = new WeakMap<PulumiCommand, CliHooks>();

type Run = (args: string[], ...rest: unknown[]) => Promise<unknown>;

/** The CLI for a workspace of the scripts: `command`, its calls watched for runOperation. */
export function operationCli(command: PulumiCommand): PulumiCommand {
  const run = (command as unknown as { run?: Run }).run;
  if (typeof run !== "function") return command;
  const hooks: CliHooks = { declineFollowUps: false, operationDone: false };
  const watched = new Proxy(command, {
    get(target, key, receiver) {
      if (key !== "run") return Reflect.get(target, key, receiver);
      return (args: string[], ...rest: unknown[]) => {
        if (hooks.declineFollowUps && hooks.operationDone && isFollowUp(args)) return Promise.reject(new FollowUpDeclined(args));
        const running = run.call(target, args, ...rest);
        if (!(OPERATIONS as readonly string[]).includes(args[0])) return running;
        hooks.operationDone = false;
        return running.then((result) => {
          hooks.operationDone = true;
          return result;
        });
      };
    },
  });
  hooksOfCli.set(watched, hooks);
  return watched;
}

function hooksOf(stack: Stack): CliHooks | undefined {
  return hooksOfCli.get(stack.workspace.pulumiCommand);
}

export interface OperationOptions {
  onOutput?: (text: string) => void;
  onError?: (text: string) => void;
  onEvent?: (event: EngineEvent) => void;
  /** The Automation API's options of that operation (diff, refresh, expectNoChanges, target, ...). */
  [option: string]: unknown;
}

export interface OperationResult {
  /** Resources per operation kind (create, update, same, ...), as the engine's summary counts them. */
  changeSummary: Record<string, number>;
}

/** Runs one operation on the stack; returns the engine's change counts. */
export async function runOperation(stack: Stack, operation: Operation, options: OperationOptions = {}): Promise<OperationResult> {
  let summary: Record<string, number> | undefined;
  const onEvent = (event: EngineEvent) => {
    if (event.summaryEvent) summary = event.summaryEvent.resourceChanges as Record<string, number>;
    options.onEvent?.(event);
  };
  const hooks = hooksOf(stack);
  if (hooks) hooks.declineFollowUps = true;
  try {
    const result = await stack[operation]({ ...options, onEvent });
    if ("changeSummary" in result) summary ??= result.changeSummary as Record<string, number>;
  } catch (error) {
    if (!(error instanceof FollowUpDeclined)) throw error;
  } finally {
    if (hooks) hooks.declineFollowUps = false;
  }
  return { changeSummary: summary ?? {} };
}
