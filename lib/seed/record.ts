/**
 * What the DirectusSeed resource keeps in Pulumi state instead of every item: per collection, the
 * item count and one content digest, and (packed) the natural keys it owns, for deletions. A
 * 10,000-entry event (180,006 items) is a few hundred kB instead of tens of MB rewritten at every
 * checkpoint. The digest is over canonical values, so Directus's formats (timestamps with
 * milliseconds, integers as strings) digest like the seed file's: a digest differs only on a real change.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type { ExistingState } from "./plan";
import { COLLECTIONS, emptyState, type CollectionName, type CollectionSpec, type FieldType, type ItemValues, type Scalar, type SeedState } from "./model";

export interface CollectionRecord {
  count: number;
  /** sha256 over the collection's items sorted by natural key, each with its canonical values. */
  digest: string;
}
export type SeedRecord = Record<CollectionName, CollectionRecord>;

/** A value as `sameValue` compares it: equal canonical values ⇔ the same value to Directus. */
export function canonicalValue(type: FieldType, value: Scalar | undefined): Scalar {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "integer":
      return Number(value);
    case "datetime": {
      const text = String(value);
      return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
    }
    case "date":
      return String(value).slice(0, 10);
    default:
      return value;
  }
}

function fieldTypes(spec: CollectionSpec): [string, FieldType][] {
  return [...Object.entries(spec.fields), ...Object.keys(spec.refs).map((f): [string, FieldType] => [f, "string"])];
}

/** Count and digest of one collection's items (refs as natural keys). */
export function collectionRecord(spec: CollectionSpec, items: Iterable<[string, ItemValues]>): CollectionRecord {
  const types = fieldTypes(spec);
  const sorted = [...items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const [key, values] of sorted) hash.update(`${JSON.stringify([key, ...types.map(([f, t]) => canonicalValue(t, values[f]))])}\n`);
  return { count: sorted.length, digest: hash.digest("hex").slice(0, 32) };
}

/** The record of a desired state. */
export function seedRecord(state: SeedState): SeedRecord {
  return Object.fromEntries(COLLECTIONS.map((spec) => [spec.name, collectionRecord(spec, Object.entries(state[spec.name] ?? {}))])) as SeedRecord;
}

/** Collections whose count or digest differ. */
export function changedCollections(before: SeedRecord, after: SeedRecord): CollectionName[] {
  return COLLECTIONS.map((c) => c.name).filter((name) => before[name]?.digest !== after[name]?.digest || before[name]?.count !== after[name]?.count);
}

/** The natural keys of a state, gzipped and base64'd: what the seed owns, for deleting what it drops later. */
export function packKeys(state: SeedState): string {
  const keys = Object.fromEntries(COLLECTIONS.map((spec) => [spec.name, Object.keys(state[spec.name] ?? {}).sort()]));
  return gzipSync(JSON.stringify(keys), { level: 9 }).toString("base64");
}

/** Packed keys back as a state whose items have no values: enough for the planner's "was it ours?". */
export function unpackKeys(packed: string | undefined): SeedState {
  const state = emptyState();
  if (!packed) return state;
  const keys = JSON.parse(gunzipSync(Buffer.from(packed, "base64")).toString("utf8")) as Record<string, string[]>;
  for (const spec of COLLECTIONS) for (const key of keys[spec.name] ?? []) state[spec.name][key] = {};
  return state;
}

/**
 * The record of the seed's items as Directus holds them now (for `pulumi refresh`): only items whose
 * natural key the seed owns; one edited by hand changes its collection's digest, one deleted its count.
 */
export function observedRecord(owned: SeedState, existing: ExistingState): SeedRecord {
  return Object.fromEntries(
    COLLECTIONS.map((spec) => {
      const items = existing[spec.name].filter((item) => item.key in owned[spec.name]).map((item): [string, ItemValues] => [item.key, item.values]);
      return [spec.name, collectionRecord(spec, items)];
    }),
  ) as SeedRecord;
}

/**
 * The desired items for the dynamic provider, handed over in a file beside the state rather than in
 * it: written by the program (which loaded and checked the seed file), named by the record's digest,
 * read back by the provider, which checks it against the record before writing anything.
 */
export function writeItemsFile(state: SeedState, record: SeedRecord = seedRecord(state)): string {
  const name = createHash("sha256").update(JSON.stringify(record)).digest("hex").slice(0, 24);
  const dir = path.join(os.tmpdir(), "trm-seed-items");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.json`);
  if (!existsSync(file)) {
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(state), { mode: 0o600 });
    renameSync(`${file}.${process.pid}`, file);
  }
  return file;
}

export function readItemsFile(file: string): SeedState {
  return JSON.parse(readFileSync(file, "utf8")) as SeedState;
}
