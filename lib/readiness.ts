/**
 * Whether a service of the stack serves, checked from where the program and the scripts reach it,
 * and a bounded wait for it that ends at once when its container fails. The same checks as the
 * containers' healthchecks (lib/services.ts) make: the database accepts a connection and answers a
 * query (pg_isready, over TCP); Directus answers /server/health with status "ok". Docker runs those
 * only every few seconds; a waiter asking every POLL_MS knows within a tenth of a second.
 * Used by the ServiceReady resource (components/service-ready.ts) and by `npm run dev`'s ready check.
 */
import pg from "pg";
import { dockerCli, dockerLogs } from "./docker-cli";

export interface Check {
  name: string;
  ok: boolean;
  /** What was tried and what came back. */
  detail: string;
}

export interface DatabaseEndpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

const ATTEMPT_TIMEOUT_MS = 5_000;
const POLL_MS = 100;
/** Asking Docker costs a process; once a second is soon enough to notice a container that failed. */
const CONTAINER_CHECK_MS = 1_000;

export async function databaseAccepts(db: DatabaseEndpoint): Promise<Check> {
  const name = `the database accepts a connection (${db.host}:${db.port})`;
  const client = new pg.Client({ ...db, connectionTimeoutMillis: ATTEMPT_TIMEOUT_MS });
  // a connection Docker's port proxy accepts and the database then drops reports here, not as a crash
  client.on("error", () => undefined);
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

export async function directusHealthy(url: string): Promise<Check> {
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

export interface ServiceWait {
  /** One check of the service. */
  check: () => Promise<Check>;
  /** Its container, watched meanwhile: restarting, exited or dead ends the wait with its logs. */
  container: string;
  timeoutSeconds: number;
}

/** Checks every POLL_MS until the service serves; throws a ContainerFailedError or, at the deadline, a NotServingError. */
export async function waitUntilServing(wait: ServiceWait): Promise<Check> {
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  const restartsBefore = containerState(wait.container)?.restarts ?? 0;
  let containerCheckedAt = Date.now();
  for (;;) {
    const check = await wait.check();
    if (check.ok) return check;
    if (Date.now() - containerCheckedAt >= CONTAINER_CHECK_MS) {
      throwIfContainerFailed(wait.container, restartsBefore);
      containerCheckedAt = Date.now();
    }
    if (Date.now() > deadline) throw notServingError(check, wait.container, wait.timeoutSeconds);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Errors here are plain Errors with a name, not subclasses: the ServiceReady provider's code is
 * serialized by Pulumi, whose classes lose what a subclass of Error sets (the provider host would
 * report "undefined").
 */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export function notServingError(check: Check, container: string, timeoutSeconds: number): Error {
  return namedError("NotServingError", `${check.name}: not after ${timeoutSeconds} s (${check.detail}). Its container's log: docker logs ${container}`);
}

export interface ContainerState {
  status: string;
  restarts: number;
  exitCode: number;
}

/** The container's state; null when Docker has no such container or does not answer (the check then says the rest). */
export function containerState(container: string): ContainerState | null {
  let found: string;
  try {
    found = dockerCli(["inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", container]);
  } catch {
    return null;
  }
  const [status, restarts, exitCode] = found.split(" ");
  return { status, restarts: Number(restarts), exitCode: Number(exitCode) };
}

/** Throws when the container failed: it is restarting, exited or dead, or restarted since `restartsBefore`. */
export function throwIfContainerFailed(container: string, restartsBefore: number): void {
  const state = containerState(container);
  if (!state) return;
  const failed = ["restarting", "exited", "dead"].includes(state.status) || state.restarts > restartsBefore;
  if (failed) throw containerFailedError(container, state, dockerLogs(container, 400));
}

/** The line our image's start-up script (scripts/image/startup.sh) begins each boot with, and the one it ends a failed one with. */
const START_MARKER = "[trm-startup] ==> 1/5";
const FAILED_LINE = /\[trm-startup\] FAILED at step (\S+) ([^(]*)\(exit (\d+)\)/;
const SHOWN_LINES = 30;

/**
 * A container that stopped serving. For our Directus image: the step its start-up failed at, that
 * attempt's last lines, and what to do next; for any other container: its last lines.
 */
export function containerFailedError(container: string, state: ContainerState, logs: string): Error {
  const lines = logs.split("\n").filter((line) => line.trim() !== "");
  // the last attempt that got as far as a verdict (a new attempt may already be under way)
  const failedAt = lines.findLastIndex((line) => FAILED_LINE.test(line));
  const end = failedAt >= 0 ? failedAt + 1 : lines.length;
  const start = lines.slice(0, end).findLastIndex((line) => line.includes(START_MARKER));
  const attempt = lines.slice(Math.max(start, 0), end);
  const failedLine = failedAt >= 0 ? FAILED_LINE.exec(lines[failedAt]) : null;
  const ours = start >= 0;
  const where = failedLine
    ? `its start-up failed at step ${failedLine[1]} ${failedLine[2].trim()} (exit ${failedLine[3]})`
    : ours
      ? "no start-up step reported a failure: Directus itself stopped"
      : "the process in it stopped";
  const exit = state.status === "running" ? "" : `, exit code ${state.exitCode}`;
  return namedError(
    "ContainerFailedError",
    [
      `the ${ours ? "Directus " : ""}container ${container} is not starting (${state.status}, ${state.restarts} restart${state.restarts === 1 ? "" : "s"}${exit}): ${where}.`,
      `its last ${ours ? "start-up " : ""}lines (docker logs ${container}):`,
      ...attempt.slice(-SHOWN_LINES).map((line) => `  | ${line}`),
      ...nextSteps(ours, failedLine?.[1], container).map((line) => `next: ${line}`),
    ].join("\n"),
  );
}

function nextSteps(ours: boolean, step: string | undefined, container: string): string[] {
  const common = `fix the cause above; the container retries on its own (follow it: docker logs -f ${container}); then npm run dev`;
  if (!ours) return [common];
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
