import {
  createItems,
  createUsers,
  deleteItems,
  deleteUsers,
  readItems,
  readUsers,
  updateItemsBatch,
  updateUsersBatch,
  type RestClient,
} from "@directus/sdk";
import { classifyFailure, SeedWriteError, type FailedRequest, type WriteAction } from "./errors";
import { collectGarbage } from "./memory";
import { seedProgress, type SeedProgress } from "./progress";
import { DEFAULT_LIMITS, OversizedItemError, splitRequests, type BodyShape, type RequestLimits } from "./requests";
import { COLLECTIONS, dependencyLevels, type CollectionSpec, type ItemValues, type Scalar, type SeedState } from "./model";
import { countWrites, formatPlan, planSeed, type CollectionPlan, type ExistingItem, type ExistingState, type SeedPlan } from "./plan";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SeedClient = RestClient<any>;

export { SeedWriteError } from "./errors";

export interface SeedOptions extends Omit<ApplyOptions, "progress"> {
  client: SeedClient;
  desired: SeedState;
  /** The seed's previous desired state: what it may delete. Without it, nothing is deleted. */
  previous?: SeedState;
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Plan lines listed per collection and action before "... and N more" (default 50; Infinity lists all). */
  planLines?: number;
}

export interface SeedResult {
  plan: SeedPlan;
  counts: ReturnType<typeof countWrites>;
  /** Requests that wrote (create/update/delete), each within the server's limits. */
  writeRequests: number;
}

/** Reads what exists, plans, and (unless dryRun) applies: creates/updates parents first, deletes children first. */
export async function seedDirectus(options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const existing = await readExisting(options.client);
  const plan = planSeed(options.desired, existing, { previous: options.previous });
  const counts = countWrites(plan);
  for (const line of formatPlan(plan, options.planLines ?? 50)) log(line);
  log(`seed plan: ${counts.creates} to create, ${counts.updates} to update, ${counts.deletes} to delete` +
    (counts.kept ? `, ${counts.kept} kept (still referenced)` : ""));
  const progress = seedProgress(log);
  collectGarbage();
  const writeRequests = options.dryRun ? 0 : await applySeedPlan(options.client, plan, { ...options, progress });
  return { plan, counts, writeRequests };
}

/** Every item of each seeded collection (read side by side), refs turned into parent natural keys. */
export async function readExisting(client: SeedClient): Promise<ExistingState> {
  const rowsOf = await Promise.all(
    COLLECTIONS.map((spec) => {
      const fields = ["id", ...Object.keys(spec.fields), ...Object.keys(spec.refs)];
      const query = { fields, limit: -1 };
      return client.request(spec.name === "directus_users" ? readUsers(query) : readItems(spec.name, query)) as Promise<Record<string, unknown>[]>;
    }),
  );
  // Parents come first in COLLECTIONS, so their keys are known when a child's refs are resolved.
  const keyOfId = new Map<string, string>();
  const state = {} as ExistingState;
  COLLECTIONS.forEach((spec, i) => {
    state[spec.name] = rowsOf[i].map((row) => toExistingItem(spec, row, keyOfId));
    for (const item of state[spec.name]) keyOfId.set(`${spec.name}:${item.id}`, item.key);
  });
  return state;
}

function toExistingItem(spec: CollectionSpec, row: Record<string, unknown>, keyOfId: Map<string, string>): ExistingItem {
  const values: ItemValues = {};
  const refIds: Record<string, string | null> = {};
  for (const field of Object.keys(spec.fields)) values[field] = (row[field] ?? null) as ItemValues[string];
  for (const [field, ref] of Object.entries(spec.refs)) {
    const id = (row[field] ?? null) as string | null;
    refIds[field] = id;
    values[field] = id === null ? null : (keyOfId.get(`${ref.collection}:${id}`) ?? `?${id}`);
  }
  const id = String(row.id);
  return { id, key: spec.key(values), values, refIds };
}

interface WriteRequest {
  collection: string;
  action: WriteAction;
  items: FailedRequest["items"];
  bodyBytes: number;
  send(): Promise<unknown>;
}

export interface ApplyOptions {
  limits?: Partial<RequestLimits>;
  /** Requests in flight at once within a dependency level. */
  concurrency?: number;
  progress?: SeedProgress;
}

/**
 * Independent requests in flight at once, measured with 1,000 entries on 2 cores: 1 → 35.3 s,
 * 2 → 23.5 s, 3 → 26.0 s, 4 → 23.5 s (250 items per request); with 1,000 items per request
 * 1 → 41.6 s, 2 → 32.4 s, 3 → 25.6 s. Two keep Directus and PostgreSQL both busy; more only queue.
 */
export const DEFAULT_CONCURRENCY = 2;

/**
 * Applies a plan in requests within the server's limits; returns how many write requests it made.
 * Levels run in dependency order (creates and updates parents-first, deletes children-first); the
 * requests of one level run side by side, at most `concurrency` at once. A failed request stops the
 * run with a SeedWriteError once the requests in flight have settled, naming what was written.
 */
export async function applySeedPlan(client: SeedClient, plan: SeedPlan, options: ApplyOptions = {}): Promise<number> {
  const limits: RequestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const progress = options.progress ?? seedProgress(() => undefined);
  const planOf = new Map(plan.map((p) => [p.collection, p]));
  const levels = dependencyLevels().map((level) => level.map((spec) => planOf.get(spec.name)!));
  const written = new Map<string, { items: number; requests: number }>();
  let requests = 0;

  const runLevel = async (level: WriteRequest[]) => {
    let next = 0;
    let failure: { request: WriteRequest; error: unknown } | undefined;
    const worker = async () => {
      while (!failure && next < level.length) {
        const request = level[next++];
        requests++;
        progress.sending(request.collection, request.action);
        try {
          await sendResendingOnStaleSocket(request);
        } catch (error) {
          failure ??= { request, error };
          return;
        }
        const key = `${request.collection}: ${request.action}d`;
        const sofar = written.get(key) ?? { items: 0, requests: 0 };
        written.set(key, { items: sofar.items + request.items.length, requests: sofar.requests + 1 });
        progress.wrote(request.collection, request.action, request.items.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, level.length) }, worker));
    if (failure) throw classifyFailure(failure.request, failure.error, describeWritten(written));
    if (level.length > 0) collectGarbage();
  };

  for (const level of levels) await runLevel(level.flatMap((p) => writeRequests(client, p, limits, progress)));
  for (const level of [...levels].reverse()) await runLevel(level.flatMap((p) => deleteRequests(client, p, limits, progress)));
  return requests;
}

/**
 * A write that died on a kept-alive socket Directus had closed while this process planned (Node's
 * server drops idle sockets after 5 s) is sent once more: such a request never reached Directus, and
 * were it to have, a create carries our own ids (a second insert is refused, never duplicated) and an
 * update sets the same values again.
 */
async function sendResendingOnStaleSocket(request: WriteRequest): Promise<unknown> {
  try {
    return await request.send();
  } catch (error) {
    const code = (error as { cause?: { code?: string } })?.cause?.code;
    if (request.action === "delete" || (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET")) throw error;
    return request.send();
  }
}

function describeWritten(written: Map<string, { items: number; requests: number }>): string[] {
  return [...written].map(([what, n]) => `${what.replace(/: (\w+)$/, `: ${n.items} $1`)}${n.requests > 1 ? ` (${n.requests} requests)` : ""}`);
}

/** The creates and updates of one collection, cut to the limits. */
function writeRequests(client: SeedClient, p: CollectionPlan, limits: RequestLimits, progress: SeedProgress): WriteRequest[] {
  const users = p.collection === "directus_users";
  const creates = sliced(p.collection, "create", p.creates, (c) => c.payload, limits, progress, (body) =>
    client.request(users ? createUsers(body, { fields: ["id"] }) : createItems(p.collection, body, { fields: ["id"] })));
  const updates = sliced(p.collection, "update", p.updates, (u) => ({ id: u.id, ...u.payload }), limits, progress, (body) =>
    client.request(users ? updateUsersBatch(body, { fields: ["id"] }) : updateItemsBatch(p.collection, body, { fields: ["id"] })));
  return [...creates, ...updates];
}

function deleteRequests(client: SeedClient, p: CollectionPlan, limits: RequestLimits, progress: SeedProgress): WriteRequest[] {
  return sliced(p.collection, "delete", p.deletes, (d) => d.id, limits, progress, (ids) =>
    client.request(p.collection === "directus_users" ? deleteUsers(ids) : deleteItems(p.collection, ids)), "keys");
}

/** Cuts one collection's action into requests; bodies are built when a request is sent, so only those in flight are held. */
function sliced<T extends { key: string; payload?: Record<string, Scalar> }, B>(
  collection: string,
  action: WriteAction,
  planned: T[],
  bodyItem: (item: T) => B,
  limits: RequestLimits,
  progress: SeedProgress,
  send: (body: B[]) => Promise<unknown>,
  shape: BodyShape = "array",
): WriteRequest[] {
  if (planned.length === 0) return [];
  let slices;
  try {
    slices = splitRequests(planned, (item) => JSON.stringify(bodyItem(item)), limits, shape);
  } catch (error) {
    if (!(error instanceof OversizedItemError)) throw error;
    throw new SeedWriteError(collection, action, [planned[error.index].key], undefined, error.message, [], "limit",
      "raise MAX_PAYLOAD_SIZE in the Directus env (and the seed's limit with it), or shorten that item's values");
  }
  progress.expect(collection, action, planned.length);
  return slices.map(({ start, end, bytes }) => ({
    collection,
    action,
    items: planned.slice(start, end),
    bodyBytes: bytes,
    send: () => send(planned.slice(start, end).map(bodyItem)),
  }));
}
