/**
 * The npm scripts' (and the e2e suites') way into Pulumi: the Automation API over a LocalWorkspace
 * in the project folder, running the program (index.ts's exported function) inline, so no Node.js
 * language host is needed; with a local file backend and a passphrase unless the environment names
 * its own (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE[_FILE]). Pulumi.yaml, the stack files and
 * the state stay those of the plain CLI.
 * The scripts that run the program load it as the language host does, with ts-node's transpile-only
 * output, cached on disk by content (`node -r ./scripts/register-ts.cjs`: ~0.7 s less per run).
 * tsx loads it no faster than plain ts-node (1.7 s either way), and Pulumi's serialization of the
 * dynamic providers, which captures whole modules under tsx's module interop, takes 1.45 s instead of
 * 0.6 s and puts 2.7x the code into the state. Either way a Node built-in imported by default
 * (`import path from "node:path"`) would come out of that serialization as `require("path").default`,
 * which is undefined: the program's modules import built-ins as namespaces or by name.
 */
import { CommandError, LocalWorkspace, type PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serializeProvidersAhead } from "../../lib/dynamic-resource";
import { SECRET_KEYS } from "../../lib/stack-config";
import { operationCli } from "./operations";
import { stackOutputsIn } from "./recover";
import { PROJECT, REPO_ROOT, syncTeamSettings } from "./team-settings";

export { PROJECT, REPO_ROOT, stackConfigFile, teamConfig, withoutProjectPrefix } from "./team-settings";
export const DEFAULT_PROGRAM = "index.ts";

/** A Pulumi program as the project writes it: a function that registers resources and returns the outputs. */
export type PulumiProgram = () => Promise<Record<string, unknown> | void>;

export interface StackOptions {
  /** The Pulumi CLI to drive (scripts/lib/pulumi-cli.ts finds or installs it). */
  pulumi: PulumiCommand;
  /** The project folder (default: this checkout). */
  workDir?: string;
  /** Environment for the CLI and the program, on top of process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The program module, relative to workDir (default index.ts); `false` opens the stack without a
   * program, for what only reads or sets state and config (outputs, config, history).
   */
  program?: string | false;
  /** Where the team settings that arrive are reported (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Env for Pulumi: PULUMI_BACKEND_URL defaults to a file backend in <workDir>/.pulumi-state (gitignored);
 * without PULUMI_CONFIG_PASSPHRASE(_FILE) a random passphrase is kept in .pulumi-state/passphrase (0600).
 */
export function pulumiEnv(workDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const stateDir = path.join(workDir, ".pulumi-state");
  const result: NodeJS.ProcessEnv = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    ...env,
  };
  result.PULUMI_BACKEND_URL ??= `file://${stateDir}`;
  // the file backend wants its folder to exist
  if (result.PULUMI_BACKEND_URL.startsWith("file://")) {
    mkdirSync(fileURLToPath(result.PULUMI_BACKEND_URL), { recursive: true, mode: 0o700 });
  }
  if (result.PULUMI_CONFIG_PASSPHRASE === undefined && !result.PULUMI_CONFIG_PASSPHRASE_FILE) {
    const file = path.join(stateDir, "passphrase");
    if (!existsSync(file)) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
    }
    result.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  }
  return Object.fromEntries(Object.entries(result).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * Selects the stack, creating it (and the local backend) on first use, with the team's settings for
 * it (the tracked Pulumi.<stack>.yaml) brought into the clone's stack file (scripts/lib/team-settings.ts).
 */
export async function openStack(stackName: string, options: StackOptions): Promise<Stack> {
  const workDir = options.workDir ?? REPO_ROOT;
  const workspace = { workDir, pulumiCommand: operationCli(options.pulumi), envVars: pulumiEnv(workDir, options.env) };
  const program = options.program === false ? undefined : loadProgram(path.join(workDir, options.program ?? DEFAULT_PROGRAM));
  // the program's dynamic providers, serialized on this thread while the CLI calls below run in theirs
  if (program) void serializeProvidersAhead();
  const stack = program
    ? // projectName only names a project that has no Pulumi.yaml; ours has one, and the workspace reads it
      await LocalWorkspace.createOrSelectStack({ stackName, projectName: PROJECT, program: inFolder(workDir, program) }, workspace)
    : await LocalWorkspace.createOrSelectStack({ stackName, workDir }, workspace);
  await syncTeamSettings(stack, workDir, options.log ?? ((line) => console.error(line)));
  return stack;
}

/** The function a program module exports (`export = async function ...`), as the language host would call it. */
export function loadProgram(file: string): PulumiProgram {
  const exported = require(file);
  const program = typeof exported === "function" ? exported : exported?.default;
  if (typeof program !== "function") {
    throw new Error(`${file} must export the Pulumi program as a function (export = async function () { ...; return outputs; })`);
  }
  return program;
}

/** The language host runs a program in its project folder, and the program's relative paths count on it. */
function inFolder(workDir: string, program: PulumiProgram): PulumiProgram {
  return async () => {
    if (process.cwd() !== workDir) process.chdir(workDir);
    return program();
  };
}

const SECRET_GENERATORS: Record<(typeof SECRET_KEYS)[number], () => string> = {
  // letters and digits guaranteed, so the weak-password check never trips on a generated one
  adminPassword: () => `Trm${randomBytes(18).toString("base64url")}9`,
  dbPassword: () => randomBytes(24).toString("base64url"),
  directusKey: () => randomBytes(32).toString("hex"),
  directusSecret: () => randomBytes(32).toString("hex"),
};

/** Sets every missing secret to a generated value, encrypted in the clone's stack file; returns the keys it set. */
export async function ensureSecrets(stack: Stack): Promise<string[]> {
  const config = await stack.getAllConfig();
  const project = (await stack.workspace.projectSettings()).name;
  const missing = SECRET_KEYS.filter((key) => !(`${project}:${key}` in config));
  // one CLI call for all of them (a fresh clone or CI stack has none): ~0.3 s each otherwise
  if (missing.length > 0) await stack.setAllConfig(Object.fromEntries(missing.map((key) => [key, { value: SECRET_GENERATORS[key](), secret: true }])));
  return missing;
}

/**
 * The stack's outputs as plain values (secrets included: callers keep them out of logs), from one CLI
 * call (`stack.outputs()` makes two: masked, then in plain text); empty before the first `up`.
 */
export async function readOutputs<T = Record<string, any>>(stack: Stack): Promise<T> {
  return revealSecrets(stackOutputsIn(await stack.exportStack())) as T;
}

/** How an exported state marks a secret; with --show-secrets its value is beside it, as JSON text. */
const SECRET_SIGNATURE = ["4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"] as const;

/** The value with every secret in it replaced by its plaintext. */
export function revealSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIGNATURE[0]] === SECRET_SIGNATURE[1]) {
    if (typeof record.plaintext !== "string") throw new Error("the exported state holds a secret without its plaintext (was it exported without --show-secrets?)");
    return revealSecrets(JSON.parse(record.plaintext));
  }
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, revealSecrets(inner)]));
}

/** Streams the engine's output to this process's stdout, as the CLI would print it. */
export const streamOutput = (text: string): void => {
  process.stdout.write(text);
};

/** Streams the engine's errors to this process's stderr. */
export const streamErrors = (text: string): void => {
  process.stderr.write(text);
};

/**
 * What the scripts' operations pass: the engine's output streamed as the CLI prints it, and no secrets
 * in the summary the Automation API reads after each operation (`stack history`): decrypting them
 * costs ~0.2 s, and no script reads them there.
 */
export const OPERATION_STREAMS = { onOutput: streamOutput, onError: streamErrors, showSecrets: false } as const;

/**
 * One line for a failed script: for a failed pulumi command its `error:` lines (the whole output was
 * already streamed above), else the error's message.
 */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof CommandError)) return message;
  const errors = new Set(message.split("\n").flatMap((line) => /^\s*error: (.*)$/.exec(line)?.slice(1) ?? []));
  return `pulumi failed (output above)${errors.size > 0 ? `: ${[...errors].join("; ")}` : ""}`;
}
