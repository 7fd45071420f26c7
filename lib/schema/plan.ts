/**
 * What applying a snapshot would do, computed without Directus, and the guard against destructive
 * applies: `directus schema apply --yes` deletes every collection, field and relation that the
 * snapshot lacks (the team once lost five collections that way).
 *
 * Mirrors Directus 11's get-snapshot-diff: items are matched by collection / collection+field, compared
 * on the same sanitised properties; fields and relations of a deleted collection go with it.
 * A field whose type changes counts as a deletion too: to or from `alias` Directus drops and
 * re-creates it; between two column types it rewrites every value (ALTER COLUMN ... TYPE), which can
 * fail or lose what does not convert.
 */
import type { Snapshot, SnapshotField } from "./snapshot";
import { sortKeysDeep } from "./snapshot";
import { stripSqlOwned } from "./strip";

export interface SchemaChanges {
  collections: string[];
  /** `collection.field` */
  fields: string[];
  /** `collection.field → related_collection` */
  relations: string[];
}

export interface SchemaPlan {
  create: SchemaChanges;
  update: SchemaChanges & { systemFields: string[] };
  delete: SchemaChanges;
  hasChanges: boolean;
  hasDeletions: boolean;
}

export interface PlanOptions {
  /** Tables SQL migrations own: never created, updated or deleted by an apply (see strip.ts). */
  sqlOwnedTables?: Iterable<string>;
}

/** Pure: what applying `target` over `current` would change. Both are stripped of SQL-owned tables first. */
export function planSchemaApply(current: Snapshot, target: Snapshot, options: PlanOptions = {}): SchemaPlan {
  const owned = [...(options.sqlOwnedTables ?? [])];
  const from = stripSqlOwned(current, owned).snapshot;
  const to = stripSqlOwned(target, owned).snapshot;
  const plan: SchemaPlan = {
    create: { collections: [], fields: [], relations: [] },
    update: { collections: [], fields: [], relations: [], systemFields: [] },
    delete: { collections: [], fields: [], relations: [] },
    hasChanges: false,
    hasDeletions: false,
  };

  const targetCollections = new Map(to.collections.map((c) => [c.collection, c]));
  const currentCollections = new Map(from.collections.map((c) => [c.collection, c]));
  for (const [name, collection] of currentCollections) {
    const next = targetCollections.get(name);
    if (!next) plan.delete.collections.push(name);
    else if (!same(pickCollection(collection), pickCollection(next))) plan.update.collections.push(name);
  }
  for (const name of targetCollections.keys()) if (!currentCollections.has(name)) plan.create.collections.push(name);
  const deleted = new Set(plan.delete.collections);

  const targetFields = new Map(to.fields.map((f) => [fieldKey(f), f]));
  const currentFields = new Map(from.fields.map((f) => [fieldKey(f), f]));
  for (const [key, field] of currentFields) {
    if (deleted.has(field.collection)) continue;
    const next = targetFields.get(key);
    if (!next || typeChanges(field, next)) plan.delete.fields.push(key);
    if (next && typeChanges(field, next)) plan.create.fields.push(key);
    else if (next && !same(pickField(field), pickField(next))) plan.update.fields.push(key);
  }
  for (const key of targetFields.keys()) if (!currentFields.has(key)) plan.create.fields.push(key);

  const relationKey = (r: { collection: string; field: string }) => `${r.collection}.${r.field}`;
  const describe = (r: { collection: string; field: string; related_collection: string | null }) =>
    r.related_collection ? `${relationKey(r)} → ${r.related_collection}` : relationKey(r);
  const targetRelations = new Map(to.relations.map((r) => [relationKey(r), r]));
  const currentRelations = new Map(from.relations.map((r) => [relationKey(r), r]));
  for (const [key, relation] of currentRelations) {
    if (deleted.has(relation.collection)) continue;
    const next = targetRelations.get(key);
    if (!next) plan.delete.relations.push(describe(relation));
    else if (!same(pickRelation(relation), pickRelation(next))) plan.update.relations.push(describe(next));
  }
  for (const [key, relation] of targetRelations) if (!currentRelations.has(key)) plan.create.relations.push(describe(relation));

  const targetSystem = new Map((to.systemFields ?? []).map((f) => [fieldKey(f), indexed(f)]));
  const currentSystem = new Map((from.systemFields ?? []).map((f) => [fieldKey(f), indexed(f)]));
  for (const key of new Set([...targetSystem.keys(), ...currentSystem.keys()])) {
    if ((targetSystem.get(key) ?? false) !== (currentSystem.get(key) ?? false)) plan.update.systemFields.push(key);
  }

  plan.hasDeletions = countOf(plan.delete) > 0;
  plan.hasChanges = plan.hasDeletions || countOf(plan.create) > 0 || countOf(plan.update) > 0;
  return plan;
}

function countOf(changes: SchemaChanges & { systemFields?: string[] }): number {
  return changes.collections.length + changes.fields.length + changes.relations.length + (changes.systemFields?.length ?? 0);
}

function fieldKey(field: { collection: string; field: string }): string {
  return `${field.collection}.${field.field}`;
}

/** The field's values would be dropped or rewritten: its Directus type or its column type changes. */
export function typeChanges(a: SnapshotField, b: SnapshotField): boolean {
  const dataType = (f: SnapshotField) => (f.schema as { data_type?: string } | null | undefined)?.data_type ?? null;
  return a.type !== b.type || dataType(a) !== dataType(b);
}

function indexed(field: Record<string, unknown>): boolean {
  return (field.schema as { is_indexed?: boolean } | undefined)?.is_indexed === true;
}

// The properties Directus compares (api/src/utils/sanitize-schema.ts).
const COLLECTION_PATHS = ["collection", "fields", "meta", "schema.name"];
const FIELD_PATHS = ["collection", "field", "type", "meta", "name", "children"];
const FIELD_SCHEMA_PATHS = [
  "name", "table", "data_type", "default_value", "max_length", "numeric_precision", "numeric_scale", "is_nullable",
  "is_unique", "is_indexed", "is_primary_key", "is_generated", "generation_expression", "has_auto_increment",
  "foreign_key_table", "foreign_key_column",
].map((p) => `schema.${p}`);
const RELATION_PATHS = [
  "collection", "field", "related_collection", "meta", "schema.table", "schema.column", "schema.foreign_key_table",
  "schema.foreign_key_column", "schema.constraint_name", "schema.on_update", "schema.on_delete",
];

function pickCollection(item: object): unknown {
  return pick(item, COLLECTION_PATHS);
}

function pickField(field: SnapshotField): unknown {
  // Directus leaves the schema of auto-increment primary keys alone.
  const schema = field.schema as { is_primary_key?: boolean; has_auto_increment?: boolean } | null | undefined;
  const autoIncrementKey = !!schema?.is_primary_key && !!schema?.has_auto_increment;
  return pick(field, autoIncrementKey ? FIELD_PATHS : [...FIELD_PATHS, ...FIELD_SCHEMA_PATHS]);
}

function pickRelation(item: object): unknown {
  return pick(item, RELATION_PATHS);
}

/** lodash-style pick of dotted paths: only paths that exist are copied. */
function pick(item: object, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const dotted of paths) {
    const keys = dotted.split(".");
    let source: unknown = item;
    let present = true;
    for (const key of keys) {
      if (source === null || typeof source !== "object" || !(key in source)) {
        present = false;
        break;
      }
      source = (source as Record<string, unknown>)[key];
    }
    if (!present) continue;
    let target = out;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys[keys.length - 1]] = source;
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeysDeep(a)) === JSON.stringify(sortKeysDeep(b));
}

// ---------------------------------------------------------------------------------------------
// The guard

export const ALLOW_DELETIONS_HINT = "--allow-deletions (or SCHEMA_ALLOW_DELETIONS=true)";

export class DestructiveSchemaChangeError extends Error {
  readonly exitCode = 5;
  constructor(readonly deletions: SchemaChanges) {
    super(
      `schema apply refused: it would delete ${summarize(deletions)}:\n` +
        deletionLines(deletions).map((line) => `  - ${line}`).join("\n") +
        `\nNothing was changed. If these deletions are intended, run again with ${ALLOW_DELETIONS_HINT}; ` +
        `if they are admin-UI changes that were never captured, capture them first (npm run schema:snapshot) and commit the snapshot.`,
    );
    this.name = "DestructiveSchemaChangeError";
  }
}

/** Throws, listing every deletion, unless there are none or they are explicitly allowed. */
export function assertDeletionsAllowed(plan: SchemaPlan, allowDeletions: boolean): void {
  if (plan.hasDeletions && !allowDeletions) throw new DestructiveSchemaChangeError(plan.delete);
}

export function deletionLines(deletions: SchemaChanges): string[] {
  return [
    ...deletions.collections.map((c) => `collection ${c} (with all its fields and data)`),
    ...deletions.fields.map((f) => `field ${f}`),
    ...deletions.relations.map((r) => `relation ${r}`),
  ];
}

/** One line per change, for logs: "+ collection x", "~ field x.y", "- relation x.y → z". */
export function describePlan(plan: SchemaPlan): string[] {
  if (!plan.hasChanges) return ["no changes"];
  const lines: string[] = [];
  const add = (sign: string, kind: string, names: string[]) => names.forEach((name) => lines.push(`${sign} ${kind} ${name}`));
  add("+", "collection", plan.create.collections);
  add("+", "field", plan.create.fields);
  add("+", "relation", plan.create.relations);
  add("~", "collection", plan.update.collections);
  add("~", "field", plan.update.fields);
  add("~", "relation", plan.update.relations);
  add("~", "system field index", plan.update.systemFields);
  add("-", "collection", plan.delete.collections);
  add("-", "field", plan.delete.fields);
  add("-", "relation", plan.delete.relations);
  return lines;
}

function summarize(deletions: SchemaChanges): string {
  const parts = [
    plural(deletions.collections.length, "collection"),
    plural(deletions.fields.length, "field"),
    plural(deletions.relations.length, "relation"),
  ].filter((part): part is string => part !== null);
  return parts.join(", ");
}

function plural(count: number, noun: string): string | null {
  return count === 0 ? null : `${count} ${noun}${count === 1 ? "" : "s"}`;
}
