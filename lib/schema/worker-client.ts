/**
 * Drives lib/schema/directus-worker.ts: one Directus process for a whole compare-and-apply (Node 22,
 * cwd the Directus folder), asked for a snapshot, a diff and an apply in turn.
 *
 * Directus is not trusted about failure (its CLI logs errors and exits 0): besides errors it throws,
 * an error line in its log during a request fails the request too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import type { Readable } from "node:stream";
import type { WorkerAnswer, WorkerRequest } from "./directus-worker";

export interface WorkerOptions {
  /** Where Directus's `cli.js` is: `/directus` in the image, the runtime folder in tests. */
  directusDir: string;
  /** Node 22 (Directus's). Default: `node` from PATH. */
  nodeBin?: string;
  env: NodeJS.ProcessEnv;
  /** Per request (loading Directus counts towards the first). */
  timeoutSeconds: number;
  /** Start on a database Directus is not installed on (a bootstrap request comes first). */
  allowNotInstalled?: boolean;
}

export class DirectusCliError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly command: string,
    readonly output: string,
    reason: string,
  ) {
    super(`\`directus ${command}\` failed: ${reason}\n${indent(tail(output.trim(), 60) || "(no output)")}`);
    this.name = "DirectusCliError";
  }
}

const NOT_INSTALLED_HINT = " (Directus is not installed on this database: run `node cli.js bootstrap` first)";

/** The bundled worker beside the bundle (the image), else the TypeScript source run by Node 22's type stripping. */
function workerArgs(allowNotInstalled: boolean): string[] {
  const flags = allowNotInstalled ? ["--allow-not-installed"] : [];
  const bundled = path.join(__dirname, "schema-worker.cjs");
  if (existsSync(bundled)) return [bundled, ...flags];
  return ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", path.join(__dirname, "directus-worker.ts"), ...flags];
}

export class DirectusSchemaWorker {
  private output = "";
  private readonly answers: WorkerAnswer[] = [];
  private waiting?: (answer: WorkerAnswer | undefined) => void;
  private exitCode?: number | null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    child.stdout!.on("data", (chunk) => (this.output += chunk));
    child.stderr!.on("data", (chunk) => (this.output += chunk));
    readline.createInterface({ input: child.stdio[3] as Readable }).on("line", (line) => this.receive(JSON.parse(line) as WorkerAnswer));
    child.on("close", (code) => {
      this.exitCode = code;
      this.waiting?.(undefined);
    });
  }

  /** Starts Directus and waits until it is connected, its extensions loaded and its install confirmed. */
  static async start(options: WorkerOptions): Promise<DirectusSchemaWorker> {
    const child = spawn(options.nodeBin ?? "node", workerArgs(options.allowNotInstalled ?? false), {
      cwd: options.directusDir,
      // info: Directus's warnings and errors reach the output; no colours to parse
      env: { ...options.env, LOG_LEVEL: "info", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    const worker = new DirectusSchemaWorker(child, options.timeoutSeconds * 1000);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) => reject(new Error(`cannot run ${options.nodeBin ?? "node"} in ${options.directusDir}: ${error.message}`)));
    });
    await worker.next("schema apply");
    return worker;
  }

  /** What `directus bootstrap` does (install or migrate); resolves with Directus's log lines of it. */
  async bootstrap(): Promise<string[]> {
    const from = this.output.length;
    await this.request({ op: "bootstrap" }, "bootstrap");
    // Directus wrote its lines before the answer; the poll that brought the answer may not have run their callback yet.
    await new Promise((resolve) => setImmediate(resolve));
    return this.output.slice(from).split("\n").filter((line) => line.trim() !== "");
  }

  snapshot(): Promise<unknown> {
    return this.request({ op: "snapshot" }, "schema snapshot");
  }

  async diff(target: object, ignoreRules: string[]): Promise<Record<string, unknown[]>> {
    return (await this.request({ op: "diff", target: target as Record<string, unknown>, ignoreRules }, "schema apply --dry-run")) as Record<string, unknown[]>;
  }

  async apply(): Promise<void> {
    await this.request({ op: "apply" }, "schema apply --yes");
  }

  /** Closes Directus's database pool and waits for the process; kills it if it hangs. */
  async close(): Promise<void> {
    if (this.exitCode === undefined) {
      try {
        await this.request({ op: "close" }, "schema (closing)");
      } catch {
        // ends below either way
      }
    }
    if (this.exitCode !== undefined) return;
    const exited = new Promise((resolve) => this.child.once("close", resolve));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async request(request: WorkerRequest, command: string): Promise<unknown> {
    if (this.exitCode !== undefined) throw new DirectusCliError(command, this.output, `Directus exited (code ${this.exitCode})`);
    this.child.stdin!.write(JSON.stringify(request) + "\n");
    return this.next(command);
  }

  /** The next answer, or a DirectusCliError naming what went wrong with Directus's output. */
  private async next(command: string): Promise<unknown> {
    const outputBefore = this.output.length;
    const answer = await this.nextAnswer(command);
    if (!answer.ok) {
      const hint = answer.notInstalled ? NOT_INSTALLED_HINT : "";
      const [reason, ...stack] = answer.error.split("\n");
      throw new DirectusCliError(command, `${this.output}\n${stack.join("\n")}`, `${reason}${hint}`);
    }
    const errors = errorLines(this.output.slice(outputBefore));
    if (errors.length > 0) throw new DirectusCliError(command, this.output, `it logged: ${errors[0]}${notInstalledHint(this.output)}`);
    return answer.value;
  }

  private nextAnswer(command: string): Promise<WorkerAnswer> {
    const queued = this.answers.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exitCode !== undefined) {
      return Promise.reject(new DirectusCliError(command, this.output, `exit code ${this.exitCode}${notInstalledHint(this.output)}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new DirectusCliError(command, `${this.output}\n(killed after ${this.timeoutMs / 1000} s)`, "it did not answer in time"));
      }, this.timeoutMs);
      this.waiting = (answer) => {
        clearTimeout(timer);
        this.waiting = undefined;
        if (answer) resolve(answer);
        else reject(new DirectusCliError(command, this.output, `exit code ${this.exitCode}${notInstalledHint(this.output)}`));
      };
    });
  }

  private receive(answer: WorkerAnswer): void {
    if (this.waiting) this.waiting(answer);
    else this.answers.push(answer);
  }
}

function notInstalledHint(output: string): string {
  return /isn't installed on this database|relation "directus_\w+" does not exist/.test(output) ? NOT_INSTALLED_HINT : "";
}

/** Error lines in pino's pretty ("[12:00:00.000] ERROR: ...") or raw JSON ("level":50) output, and crashes. */
export function errorLines(output: string): string[] {
  return output
    .split("\n")
    .filter(
      (line) =>
        /^\[[^\]]*\]\s+(ERROR|FATAL)\b/.test(line) ||
        /"level":\s*(50|60)\b/.test(line) ||
        /isn't installed on this database/.test(line) ||
        /^\s*(\w+)?Error: /.test(line),
    )
    .map((line) => line.trim());
}

function tail(text: string, lines: number): string {
  const all = text.split("\n");
  return all.length <= lines ? text : [`(${all.length - lines} lines before)`, ...all.slice(-lines)].join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  | ${line}`)
    .join("\n");
}
