import {
  createItems,
  createUsers,
  deleteItems,
  deleteUsers,
  readItems,
  readUsers,
  updateItemsBatch,
  updateUsersBatch,
  isDirectusError,
  type RestClient,
} from "@directus/sdk";
import { plainError } from "../plain-error";
import { COLLECTIONS, dependencyLevels, type CollectionSpec, type ItemValues, type Scalar, type SeedState } from "./model";
import { countWrites, formatPlan, planSeed, type CollectionPlan, type ExistingItem, type ExistingState, type SeedPlan } from "./plan";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SeedClient = RestClient<any>;

export interface SeedOptions {
  client: SeedClient;
  desired: SeedState;
  /** The seed's previous desired state: what it may delete. Without it, nothing is deleted. */
  previous?: SeedState;
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface SeedResult {
  plan: SeedPlan;
  counts: ReturnType<typeof countWrites>;
  /** Requests that wrote (create/update/delete): one per collection and action at most. */
  writeRequests: number;
}

/** Reads what exists, plans, and (unless dryRun) applies: creates/updates parents first, deletes children first. */
export async function seedDirectus(options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const existing = await readExisting(options.client);
  const plan = planSeed(options.desired, existing, { previous: options.previous });
  const counts = countWrites(plan);
  for (const line of formatPlan(plan)) log(line);
  log(`seed plan: ${counts.creates} to create, ${counts.updates} to update, ${counts.deletes} to delete` +
    (counts.kept ? `, ${counts.kept} kept (still referenced)` : ""));
  const writeRequests = options.dryRun ? 0 : await applySeedPlan(options.client, plan);
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

type WriteAction = "create" | "update" | "delete";

/** Directus (or the network) refused a write: which collection, items and field, and what this run had written before. */
export class SeedWriteError extends Error {
  constructor(
    readonly collection: string,
    readonly action: WriteAction,
    /** Natural keys of the items the refusal points at (all of the request's items when Directus does not say). */
    readonly keys: string[],
    readonly field: string | undefined,
    readonly reason: string,
    readonly written: string[],
  ) {
    super(
      `Directus refused to ${action} ${describeItems(collection, keys)}${field ? `, field ${field} (as Directus names it)` : ""}: ${reason}\n` +
        `  nothing of this request was written (one request is one transaction); ` +
        (written.length > 0 ? `already written by this run: ${written.join("; ")}` : "nothing else was written by this run") +
        `\n  fix the seed data and run again: the next run writes only what is missing`,
    );
    this.name = "SeedWriteError";
  }
}

function describeItems(collection: string, keys: string[]): string {
  const shown = keys.slice(0, 10).map((k) => `"${k}"`).join(", ");
  return `${keys.length === 1 ? "item" : `${keys.length} items`} of ${collection} (${shown}${keys.length > 10 ? `, and ${keys.length - 10} more` : ""})`;
}

interface RequestItem {
  key: string;
  payload?: Record<string, Scalar>;
}

/** The items a refusal is about: those holding the refused value when Directus names one, else all of them. */
function refusedItems(items: RequestItem[], field: string | undefined, value: unknown): string[] {
  const holding = field && value !== undefined ? items.filter((i) => i.payload && String(i.payload[field]) === String(value)) : [];
  return (holding.length > 0 ? holding : items).map((i) => i.key);
}

function refusalOf(collection: string, action: WriteAction, items: RequestItem[], error: unknown, written: string[]): SeedWriteError {
  const first = isDirectusError(error) ? error.errors[0] : undefined;
  const extensions = (first?.extensions ?? {}) as { field?: string; value?: unknown };
  // Directus names a payload field for validation errors; for database errors it sometimes names another column.
  const field = extensions.field && items.some((i) => i.payload && extensions.field! in i.payload) ? extensions.field : undefined;
  const reason = isDirectusError(error) ? error.errors.map((e) => e.message).join("; ") : plainError(error).message;
  return new SeedWriteError(collection, action, refusedItems(items, field, extensions.value), field, reason, written);
}

/**
 * One request per collection and action; returns how many write requests it made. Collections of
 * one dependency level go side by side: creates and updates parents-first, deletes children-first.
 * A refused request fails the run with a SeedWriteError once its level has settled.
 */
export async function applySeedPlan(client: SeedClient, plan: SeedPlan): Promise<number> {
  let requests = 0;
  const written: string[] = [];
  const refusals: { collection: string; action: WriteAction; items: RequestItem[]; error: unknown }[] = [];
  const send = async (collection: string, action: WriteAction, items: RequestItem[], command: Parameters<SeedClient["request"]>[0]) => {
    requests++;
    try {
      await client.request(command);
      written.push(`${collection}: ${items.length} ${action}d`);
    } catch (error) {
      refusals.push({ collection, action, items, error });
    }
  };
  const planOf = new Map(plan.map((p) => [p.collection, p]));
  const levels = dependencyLevels().map((level) => level.map((spec) => planOf.get(spec.name)!));

  const write = async (p: CollectionPlan) => {
    const users = p.collection === "directus_users";
    if (p.creates.length > 0) {
      const items = p.creates.map((c) => c.payload);
      await send(p.collection, "create", p.creates, users ? createUsers(items, { fields: ["id"] }) : createItems(p.collection, items, { fields: ["id"] }));
    }
    if (p.updates.length > 0) {
      const items = p.updates.map((u) => ({ id: u.id, ...u.payload }));
      await send(p.collection, "update", p.updates, users ? updateUsersBatch(items, { fields: ["id"] }) : updateItemsBatch(p.collection, items, { fields: ["id"] }));
    }
  };
  const remove = async (p: CollectionPlan) => {
    if (p.deletes.length === 0) return;
    const ids = p.deletes.map((d) => d.id);
    await send(p.collection, "delete", p.deletes, p.collection === "directus_users" ? deleteUsers(ids) : deleteItems(p.collection, ids));
  };
  const settle = async (level: CollectionPlan[], step: (p: CollectionPlan) => Promise<void>) => {
    await Promise.all(level.map(step));
    const [refused] = refusals;
    if (refused) throw refusalOf(refused.collection, refused.action, refused.items, refused.error, written);
  };

  for (const level of levels) await settle(level, write);
  for (const level of [...levels].reverse()) await settle(level, remove);
  return requests;
}
