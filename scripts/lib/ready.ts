/**
 * "Ready" means a user can work: the database accepts a connection, Directus answers /server/health,
 * and the seeded events read back through the API. `npm run dev` says "ready" only after all three,
 * waiting a bounded time (a container that was just started is still booting).
 */
import { aggregate } from "@directus/sdk";
import pg from "pg";
import { connectDirectus } from "../../lib/directus-client";

export interface ReadyTarget {
  db: pg.ClientConfig;
  directusUrl: string;
  admin: { email: string; password: string };
  /** How many events the seed holds (the stack's seededCounts output); undefined when the seed is off. */
  seededEvents?: number;
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

/** Checks until all pass or `timeoutSeconds` ran out; returns the last round. */
export async function waitUntilReady(target: ReadyTarget, timeoutSeconds: number): Promise<Check[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const checks = await checkReady(target);
    if (checks.every((c) => c.ok) || Date.now() > deadline) return checks;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
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
