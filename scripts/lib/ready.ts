/**
 * "Ready" means a user can work: the database accepts a connection, Directus answers /server/health,
 * and the seeded events read back through the API. `npm run dev` says "ready" only after all three,
 * waiting a bounded time (a container that was just started is still booting), and then prints the
 * schema drift the start-up recorded. A Directus container whose start-up failed (restarting, exited)
 * ends the wait at once, with the failed step, the last start-up lines and what to do next.
 */
import { aggregate } from "@directus/sdk";
import pg from "pg";
import { connectDirectus } from "../../lib/directus-client";
import { describeRecordedDrift } from "../../lib/schema/drift-record";
import { docker } from "./docker";

export interface ReadyTarget {
  db: pg.ClientConfig;
  directusUrl: string;
  admin: { email: string; password: string };
  /** How many events the seed holds (the stack's seededCounts output); undefined when the seed is off. */
  seededEvents?: number;
  /** The Directus container: watched while waiting, so a failed start-up ends the wait at once. */
  directusContainer?: string;
  /** Where the recorded schema drift is printed once ready. */
  log?: (line: string) => void;
}

export interface Check {
  name: string;
  ok: boolean;
  /** What was tried and what came back. */
  detail: string;
}

const ATTEMPT_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 1_000;

async function databaseAccepts(db: pg.ClientConfig): Promise<Check> {
  const name = `the database accepts a connection (${db.host}:${db.port})`;
  const client = new pg.Client({ ...db, connectionTimeoutMillis: ATTEMPT_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { name, ok: true, detail: "SELECT 1 answered" };
  } catch (error) {
    return { name, ok: false, detail: `connect + SELECT 1: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function directusHealthy(url: string): Promise<Check> {
  const name = `Directus answers ${url}/server/health`;
  try {
    const response = await fetch(`${url}/server/health`, { signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
    const body = (await response.json().catch(() => ({}))) as { status?: string };
    return { name, ok: body.status === "ok", detail: `HTTP ${response.status}, status ${JSON.stringify(body.status)}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { name, ok: false, detail: `no answer (${cause ?? (error as Error).message})` };
  }
}

async function seedReadable(target: ReadyTarget): Promise<Check> {
  const name = "the seeded events read back through the API";
  try {
    const client = await connectDirectus(target.directusUrl, target.admin);
    const [row] = (await client.request(aggregate("events", { aggregate: { count: "*" } }))) as { count: string | number }[];
    const count = Number(row?.count ?? 0);
    return { name, ok: count >= target.seededEvents!, detail: `${count} event(s) as admin ${target.admin.email}, the seed holds ${target.seededEvents}` };
  } catch (error) {
    return { name, ok: false, detail: `login as ${target.admin.email} + read events: ${(error as Error).message}` };
  }
}

/** Every check, once. */
export async function checkReady(target: ReadyTarget): Promise<Check[]> {
  const checks = [databaseAccepts(target.db), directusHealthy(target.directusUrl)];
  if (target.seededEvents !== undefined) checks.push(seedReadable(target));
  return Promise.all(checks);
}

/**
 * Checks until all pass or `timeoutSeconds` ran out; returns the last round. Throws StartupFailedError
 * as soon as the Directus container is seen restarting or exited. Once ready, prints the schema drift.
 */
export async function waitUntilReady(target: ReadyTarget, timeoutSeconds: number): Promise<Check[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const restartsBefore = target.directusContainer ? containerState(target.directusContainer)?.restarts : undefined;
  for (;;) {
    if (target.directusContainer) throwIfStartupFailed(target.directusContainer, restartsBefore ?? 0);
    const checks = await checkReady(target);
    if (checks.every((c) => c.ok)) {
      if (target.log) for (const line of await describeRecordedDrift(toDbSettings(target.db))) target.log(line);
      return checks;
    }
    if (Date.now() > deadline) return checks;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function toDbSettings(db: pg.ClientConfig) {
  return { host: String(db.host), port: Number(db.port), database: String(db.database), user: String(db.user), password: String(db.password) };
}

interface ContainerState {
  status: string;
  restarts: number;
  exitCode: number;
}

function containerState(container: string): ContainerState | null {
  const result = docker(["inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", container]);
  if (!result.ok) return null;
  const [status, restarts, exitCode] = result.stdout.split(" ");
  return { status, restarts: Number(restarts), exitCode: Number(exitCode) };
}

/** Throws when the container's start-up failed: it is restarting, exited or dead, or restarted since the wait began. */
export function throwIfStartupFailed(container: string, restartsBefore: number): void {
  const state = containerState(container);
  if (!state) return; // not created yet, or Docker not answering: the health check says the rest
  const failed = ["restarting", "exited", "dead"].includes(state.status) || state.restarts > restartsBefore;
  if (failed) throw new StartupFailedError(container, state, docker(["logs", "--tail", "400", container]));
}

const START_MARKER = "[trm-startup] ==> 1/5";
const FAILED_LINE = /\[trm-startup\] FAILED at step (\S+) ([^(]*)\(exit (\d+)\)/;
const SHOWN_LINES = 30;

export class StartupFailedError extends Error {
  constructor(container: string, state: ContainerState, logs: { stdout: string; stderr: string }) {
    const lines = `${logs.stdout}\n${logs.stderr}`.split("\n").filter((line) => line.trim() !== "");
    // the last attempt that got as far as a verdict (a new attempt may already be under way)
    const failedAt = lines.findLastIndex((line) => FAILED_LINE.test(line));
    const end = failedAt >= 0 ? failedAt + 1 : lines.length;
    const start = lines.slice(0, end).findLastIndex((line) => line.includes(START_MARKER));
    const attempt = lines.slice(Math.max(start, 0), end);
    const failedLine = failedAt >= 0 ? FAILED_LINE.exec(lines[failedAt]) : null;
    const where = failedLine
      ? `its start-up failed at step ${failedLine[1]} ${failedLine[2].trim()} (exit ${failedLine[3]})`
      : "no start-up step reported a failure: Directus itself stopped";
    const exit = state.status === "running" ? "" : `, exit code ${state.exitCode}`;
    super(
      [
        `the Directus container ${container} is not starting (${state.status}, ${state.restarts} restart${state.restarts === 1 ? "" : "s"}${exit}): ${where}.`,
        `its last start-up lines (docker logs ${container}):`,
        ...attempt.slice(-SHOWN_LINES).map((line) => `  | ${line}`),
        ...nextSteps(failedLine?.[1], container).map((line) => `next: ${line}`),
      ].join("\n"),
    );
    this.name = "StartupFailedError";
  }
}

function nextSteps(step: string | undefined, container: string): string[] {
  const common = `fix the cause above; the container retries on its own (follow it: docker logs -f ${container}); then npm run dev`;
  switch (step) {
    case "1/5":
    case "4/5":
      return [
        "the migrations step failed: a SQL error names file:line:column (migrations are append-only: add a new file, do not edit an applied one); " +
          "a connection error means the database or its DB_* settings (docker logs of the database container)",
        common,
      ];
    case "2/5":
      return ["directus bootstrap failed: check the database settings and the database container (docker logs of it)", common];
    case "3/5":
      return [
        "the schema step failed (drift alone never stops it): read the error above; capture the live schema with npm run stack -- schema:snapshot (works with Directus down)",
        "or start without the schema step once: npm run pulumi -- config set schemaApplyMode skip --stack <stack>, npm run dev, then config rm schemaApplyMode",
        common,
      ];
    default:
      return [common];
  }
}

export class NotReadyError extends Error {
  constructor(checks: Check[], waitedSeconds: number, hints: string[]) {
    super(
      [
        `the stack is not ready after ${waitedSeconds} s:`,
        ...checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
        ...hints.map((h) => `  ${h}`),
      ].join("\n"),
    );
    this.name = "NotReadyError";
  }
}
