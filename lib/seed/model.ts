/**
 * The seeded collections, in dependency order (parents first), with the fields the seed manages,
 * the relations it resolves, and each item's natural key. Items are matched by natural key,
 * never by database id, so a seed run against any Directus finds "its" items again.
 *
 * Written here: which fields the seed file sets (lib/seed/data.ts reads them) and the natural keys.
 * Read from snapshots/schema.yaml (lib/schema/model.ts), the model's one description: each field's
 * type, which fields are relations, to which collection and with which ON DELETE. A field the seed
 * does not set is never written, so values typed in the admin UI stay.
 */
import { readSchemaModel, type SchemaModel } from "../schema/model";

export type FieldType = "string" | "integer" | "date" | "datetime";

export interface RefSpec {
  collection: CollectionName;
  /** ON DELETE behaviour of the relation: RESTRICT blocks deleting a still-referenced parent. */
  onDelete: "restrict" | "set-null";
}

export interface CollectionSpec {
  name: CollectionName;
  fields: Record<string, FieldType>;
  refs: Record<string, RefSpec>;
  /** The natural key, from an item's values (ref fields hold the parent's natural key). */
  key(values: ItemValues): string;
}

export type Scalar = string | number | null;
/** Field values by field name; ref fields hold the parent's natural key (or null). */
export type ItemValues = Record<string, Scalar>;
/** Desired items per collection, by natural key. */
export type SeedState = Record<CollectionName, Record<string, ItemValues>>;

export const COLLECTION_NAMES = [
  "organizations",
  "directus_users",
  "vehicles",
  "devices",
  "organization_users",
  "organization_vehicles",
  "organization_devices",
  "events",
  "classes",
  "entries",
  "entry_crew",
  "entry_devices",
] as const;
export type CollectionName = (typeof COLLECTION_NAMES)[number];

const join = (...parts: Scalar[]): string => parts.map((p) => p ?? "").join("/");

/** What the seed sets of each collection, and how an item is known. */
interface SeededCollection {
  name: CollectionName;
  /** Scalar fields and many-to-one fields (these hold the parent's natural key). */
  fields: readonly string[];
  key(values: ItemValues): string;
}

const SEEDED: readonly SeededCollection[] = [
  { name: "organizations", fields: ["slug", "name"], key: (v) => join(v.slug) },
  {
    name: "directus_users",
    fields: ["email", "first_name", "last_name", "phone", "birth_date", "nationality"],
    key: (v) => join(String(v.email).toLowerCase()),
  },
  { name: "vehicles", fields: ["plate", "vin", "make", "model", "year", "cc"], key: vehicleKey },
  { name: "devices", fields: ["imei", "model"], key: (v) => join(v.imei) },
  { name: "organization_users", fields: ["role", "organization_id", "user_id"], key: (v) => join(v.organization_id, v.user_id) },
  { name: "organization_vehicles", fields: ["registered_at", "organization_id", "vehicle_id"], key: (v) => join(v.organization_id, v.vehicle_id) },
  { name: "organization_devices", fields: ["registered_at", "organization_id", "device_id"], key: (v) => join(v.organization_id, v.device_id) },
  {
    name: "events",
    fields: ["slug", "name", "discipline", "starts_at", "ends_at", "regulation_doc_url", "notes", "organization_id"],
    key: (v) => join(v.organization_id, v.slug),
  },
  { name: "classes", fields: ["code", "name", "description", "sort_order", "event_id"], key: (v) => join(v.event_id, v.code) },
  { name: "entries", fields: ["race_number", "status", "event_id", "class_id", "vehicle_id"], key: (v) => join(v.event_id, `#${v.race_number}`) },
  { name: "entry_crew", fields: ["role", "entry_id", "user_id"], key: (v) => join(v.entry_id, v.user_id) },
  { name: "entry_devices", fields: ["entry_id", "device_id", "assigned_user_id"], key: (v) => join(v.entry_id, v.device_id) },
];

/** Directus's own types, as the seed compares and sends values. */
const FIELD_TYPES: Record<string, FieldType> = {
  integer: "integer",
  bigInteger: "integer",
  date: "date",
  timestamp: "datetime",
  dateTime: "datetime",
};

/** One collection's spec: types and relations from the schema. Fields the schema lacks are strings here; the seed's checks name them. */
export function specFrom(seeded: SeededCollection, model: SchemaModel): CollectionSpec {
  const fields: Record<string, FieldType> = {};
  const refs: Record<string, RefSpec> = {};
  for (const field of seeded.fields) {
    const relation = model.relation(seeded.name, field);
    if (relation?.related_collection) {
      const onDelete = (relation.schema as { on_delete?: string } | null)?.on_delete === "SET NULL" ? "set-null" : "restrict";
      refs[field] = { collection: relation.related_collection as CollectionName, onDelete };
    } else {
      fields[field] = FIELD_TYPES[model.field(seeded.name, field)?.type ?? "string"] ?? "string";
    }
  }
  return { name: seeded.name, fields, refs, key: seeded.key };
}

export const COLLECTIONS: readonly CollectionSpec[] = (() => {
  const model = readSchemaModel();
  return SEEDED.map((seeded) => specFrom(seeded, model));
})();

/**
 * Collections grouped by dependency depth: nothing in a level refers to anything in the same or a
 * later level, so a level's requests can run side by side (parents' levels first, children's first
 * for deletes).
 */
export function dependencyLevels(): CollectionSpec[][] {
  const depth = new Map<CollectionName, number>();
  for (const spec of COLLECTIONS) {
    const parents = Object.values(spec.refs).map((ref) => depth.get(ref.collection)! + 1);
    depth.set(spec.name, Math.max(0, ...parents));
  }
  const levels: CollectionSpec[][] = [];
  for (const spec of COLLECTIONS) (levels[depth.get(spec.name)!] ??= []).push(spec);
  return levels;
}

/** A vehicle is known by its plate, or by its VIN when it has no plate. */
export function vehicleKey(v: { plate?: Scalar; vin?: Scalar }): string {
  return v.plate ? `plate:${v.plate}` : `vin:${v.vin}`;
}

export function emptyState(): SeedState {
  return Object.fromEntries(COLLECTION_NAMES.map((name) => [name, {}])) as SeedState;
}
