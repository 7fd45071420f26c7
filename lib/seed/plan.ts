import { randomUUID } from "node:crypto";
import { COLLECTIONS, type CollectionName, type CollectionSpec, type FieldType, type ItemValues, type Scalar, type SeedState } from "./model";

/** An item as it exists in Directus: its id, and values with refs already turned into parent natural keys. */
export interface ExistingItem {
  id: string;
  key: string;
  values: ItemValues;
  /** Ref fields as stored (parent ids), for the "still referenced?" check before deletes. */
  refIds: Record<string, string | null>;
}
export type ExistingState = Record<CollectionName, ExistingItem[]>;

export interface PlannedCreate {
  key: string;
  payload: Record<string, Scalar>;
}
export interface PlannedUpdate {
  key: string;
  id: string;
  changes: Record<string, { from: Scalar; to: Scalar }>;
  payload: Record<string, Scalar>;
}
export interface PlannedDelete {
  key: string;
  id: string;
}
export interface CollectionPlan {
  collection: CollectionName;
  creates: PlannedCreate[];
  updates: PlannedUpdate[];
  deletes: PlannedDelete[];
  /** Items the seed would delete but that items it does not own still reference: left in place. */
  kept: { key: string; reason: string }[];
}
/** In dependency order; apply creates/updates in this order and deletes in reverse. */
export type SeedPlan = CollectionPlan[];

export interface PlanOptions {
  /** What the seed wanted last time: keys there and no longer desired are the seed's to delete. */
  previous?: SeedState;
  newId?: () => string;
}

/**
 * Pure planning: what to create, update and delete so Directus holds `desired`.
 * Only items whose natural key the seed declares (now or previously) are ever touched.
 */
export function planSeed(desired: SeedState, existing: ExistingState, options: PlanOptions = {}): SeedPlan {
  const newId = options.newId ?? randomUUID;
  const idOf = new Map<CollectionName, Map<string, string>>(
    COLLECTIONS.map((c) => [c.name, new Map(existing[c.name].map((item) => [item.key, item.id]))]),
  );
  const resolve = (spec: CollectionSpec, field: string, parentKey: Scalar): string | null =>
    parentKey === null ? null : idOf.get(spec.refs[field].collection)!.get(String(parentKey))!;

  const plans: SeedPlan = COLLECTIONS.map((spec) => {
    const byKey = new Map(existing[spec.name].map((item) => [item.key, item]));
    const plan: CollectionPlan = { collection: spec.name, creates: [], updates: [], deletes: [], kept: [] };
    for (const [key, values] of Object.entries(desired[spec.name])) {
      const current = byKey.get(key);
      if (!current) {
        const id = newId();
        idOf.get(spec.name)!.set(key, id);
        plan.creates.push({ key, payload: { id, ...toPayload(spec, values, resolve) } });
        continue;
      }
      const changes = changedFields(spec, current.values, values);
      if (Object.keys(changes).length > 0) {
        const payload = toPayload(spec, values, resolve);
        plan.updates.push({ key, id: current.id, changes, payload: pick(payload, Object.keys(changes)) });
      }
    }
    return plan;
  });

  planDeletes(plans, desired, existing, options.previous, resolve);
  return plans;
}

/** Children first, so a parent is only deleted when nothing that stays still points at it. */
function planDeletes(
  plans: SeedPlan,
  desired: SeedState,
  existing: ExistingState,
  previous: SeedState | undefined,
  resolve: (spec: CollectionSpec, field: string, parentKey: Scalar) => string | null,
): void {
  if (!previous) return;
  const deletedIds = new Set<string>();
  const refsAfterPlan = (spec: CollectionSpec, item: ExistingItem): Record<string, string | null> => {
    const wanted = desired[spec.name][item.key];
    if (!wanted) return item.refIds;
    return Object.fromEntries(Object.keys(spec.refs).map((f) => [f, resolve(spec, f, wanted[f] ?? null)]));
  };

  for (const plan of [...plans].reverse()) {
    const spec = COLLECTIONS.find((c) => c.name === plan.collection)!;
    for (const item of existing[spec.name]) {
      if (!(item.key in previous[spec.name]) || item.key in desired[spec.name]) continue;
      const referrers = restrictingReferrers(spec.name, item.id, existing, deletedIds, refsAfterPlan);
      if (referrers.length > 0) {
        plan.kept.push({ key: item.key, reason: `still referenced by ${referrers.join(", ")}` });
        continue;
      }
      plan.deletes.push({ key: item.key, id: item.id });
      deletedIds.add(item.id);
    }
  }
}

function restrictingReferrers(
  parent: CollectionName,
  parentId: string,
  existing: ExistingState,
  deletedIds: Set<string>,
  refsAfterPlan: (spec: CollectionSpec, item: ExistingItem) => Record<string, string | null>,
): string[] {
  const referrers: string[] = [];
  for (const child of COLLECTIONS) {
    const fields = Object.entries(child.refs).filter(([, ref]) => ref.collection === parent && ref.onDelete === "restrict");
    if (fields.length === 0) continue;
    for (const item of existing[child.name]) {
      if (deletedIds.has(item.id)) continue;
      const refs = refsAfterPlan(child, item);
      if (fields.some(([field]) => refs[field] === parentId)) referrers.push(`${child.name} ${item.key}`);
    }
  }
  return referrers;
}

function toPayload(
  spec: CollectionSpec,
  values: ItemValues,
  resolve: (spec: CollectionSpec, field: string, parentKey: Scalar) => string | null,
): Record<string, Scalar> {
  const payload: Record<string, Scalar> = {};
  for (const field of Object.keys(spec.fields)) payload[field] = values[field] ?? null;
  for (const field of Object.keys(spec.refs)) payload[field] = resolve(spec, field, values[field] ?? null);
  return payload;
}

function changedFields(spec: CollectionSpec, current: ItemValues, wanted: ItemValues): PlannedUpdate["changes"] {
  const changes: PlannedUpdate["changes"] = {};
  const types: Record<string, FieldType> = { ...spec.fields, ...Object.fromEntries(Object.keys(spec.refs).map((f) => [f, "string" as const])) };
  for (const [field, type] of Object.entries(types)) {
    const from = current[field] ?? null;
    const to = wanted[field] ?? null;
    if (!sameValue(type, from, to)) changes[field] = { from, to };
  }
  return changes;
}

/** Directus returns timestamps with milliseconds (and dateTime without a zone), integers maybe as strings. */
export function sameValue(type: FieldType, a: Scalar, b: Scalar): boolean {
  if (a === null || b === null) return a === b;
  switch (type) {
    case "integer":
      return Number(a) === Number(b);
    case "datetime":
      return toEpoch(String(a)) === toEpoch(String(b));
    case "date":
      return String(a).slice(0, 10) === String(b).slice(0, 10);
    default:
      return a === b;
  }
}

function toEpoch(value: string): number {
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`);
}

function pick(payload: Record<string, Scalar>, fields: string[]): Record<string, Scalar> {
  return Object.fromEntries(fields.map((f) => [f, payload[f]]));
}

export function countWrites(plan: SeedPlan): { creates: number; updates: number; deletes: number; kept: number } {
  const sum = (f: (p: CollectionPlan) => number) => plan.reduce((n, p) => n + f(p), 0);
  return {
    creates: sum((p) => p.creates.length),
    updates: sum((p) => p.updates.length),
    deletes: sum((p) => p.deletes.length),
    kept: sum((p) => p.kept.length),
  };
}

/**
 * One line per planned change, for `--dry-run` and logs; with `perList`, at most that many lines per
 * collection and action, then "... and N more" (a 10,000-entry event plans 180,000 creates).
 */
export function formatPlan(plan: SeedPlan, perList = Infinity): string[] {
  const lines: string[] = [];
  const list = <T>(collection: string, items: T[], line: (item: T) => string, what: string) => {
    for (const item of items.slice(0, perList)) lines.push(line(item));
    if (items.length > perList) lines.push(`  ${collection}: ... and ${items.length - perList} more ${what}`);
  };
  for (const p of plan) {
    list(p.collection, p.creates, (c) => `+ ${p.collection} ${c.key}`, "to create");
    list(p.collection, p.updates, (u) => {
      const what = Object.entries(u.changes).map(([f, { from, to }]) => `${f}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
      return `~ ${p.collection} ${u.key} (${what.join(", ")})`;
    }, "to update");
  }
  for (const p of [...plan].reverse()) {
    list(p.collection, p.deletes, (d) => `- ${p.collection} ${d.key}`, "to delete");
    list(p.collection, p.kept, (k) => `! ${p.collection} ${k.key} not deleted: ${k.reason}`, "kept");
  }
  return lines;
}
