/**
 * "Ready" means a user can work: the database accepts a connection, Directus answers /server/health,
 * and the seeded events read back through the API. `npm run dev` says "ready" only after all three,
 * waiting a bounded time (a container that was just started is still booting), and then prints the
 * schema drift the start-up recorded. A Directus container whose start-up failed (restarting, exited)
 * ends the wait at once, with the failed step, the last start-up lines and what to do next.
 */
import { aggregate } from "@directus/sdk";
import type pg from "pg";
import { connectDirectus } from "../../lib/directus-client";
import { containerState, databaseAccepts, directusHealthy, throwIfContainerFailed, type Check } from "../../lib/readiness";
import { describeRecordedDrift } from "../../lib/schema/drift-record";

export type { Check } from "../../lib/readiness";

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

const POLL_INTERVAL_MS = 1_000;

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
  const checks = [databaseAccepts(toDbSettings(target.db)), directusHealthy(target.directusUrl)];
  if (target.seededEvents !== undefined) checks.push(seedReadable(target));
  return Promise.all(checks);
}

/**
 * Checks until all pass or `timeoutSeconds` ran out; returns the last round. Throws a ContainerFailedError
 * as soon as the Directus container is seen restarting or exited. Once ready, prints the schema drift.
 */
export async function waitUntilReady(target: ReadyTarget, timeoutSeconds: number): Promise<Check[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const restartsBefore = target.directusContainer ? containerState(target.directusContainer)?.restarts : undefined;
  for (;;) {
    if (target.directusContainer) throwIfContainerFailed(target.directusContainer, restartsBefore ?? 0);
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
