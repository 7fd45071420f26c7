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
import { COLLECTIONS, dependencyLevels, type CollectionSpec, type ItemValues, type SeedState } from "./model";
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

/**
 * One request per collection and action; returns how many write requests it made. Collections of
 * one dependency level go side by side: creates and updates parents-first, deletes children-first.
 */
export async function applySeedPlan(client: SeedClient, plan: SeedPlan): Promise<number> {
  let requests = 0;
  const send = async (command: Parameters<SeedClient["request"]>[0]) => {
    requests++;
    await client.request(command);
  };
  const planOf = new Map(plan.map((p) => [p.collection, p]));
  const levels = dependencyLevels().map((level) => level.map((spec) => planOf.get(spec.name)!));

  const write = async (p: CollectionPlan) => {
    const users = p.collection === "directus_users";
    if (p.creates.length > 0) {
      const items = p.creates.map((c) => c.payload);
      await send(users ? createUsers(items, { fields: ["id"] }) : createItems(p.collection, items, { fields: ["id"] }));
    }
    if (p.updates.length > 0) {
      const items = p.updates.map((u) => ({ id: u.id, ...u.payload }));
      await send(users ? updateUsersBatch(items, { fields: ["id"] }) : updateItemsBatch(p.collection, items, { fields: ["id"] }));
    }
  };
  const remove = async (p: CollectionPlan) => {
    if (p.deletes.length === 0) return;
    const ids = p.deletes.map((d) => d.id);
    await send(p.collection === "directus_users" ? deleteUsers(ids) : deleteItems(p.collection, ids));
  };

  for (const level of levels) await Promise.all(level.map(write));
  for (const level of [...levels].reverse()) await Promise.all(level.map(remove));
  return requests;
}
