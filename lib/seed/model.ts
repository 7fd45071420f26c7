/**
 * The seeded collections, in dependency order (parents first), with the fields the seed manages,
 * the relations it resolves, and each item's natural key. Items are matched by natural key,
 * never by database id, so a seed run against any Directus finds "its" items again.
 */
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

const restrict = (collection: CollectionName): RefSpec => ({ collection, onDelete: "restrict" });
const join = (...parts: Scalar[]): string => parts.map((p) => p ?? "").join("/");

export const COLLECTIONS: readonly CollectionSpec[] = [
  { name: "organizations", fields: { slug: "string", name: "string" }, refs: {}, key: (v) => join(v.slug) },
  {
    name: "directus_users",
    fields: { email: "string", first_name: "string", last_name: "string", phone: "string", birth_date: "date", nationality: "string" },
    refs: {},
    key: (v) => join(String(v.email).toLowerCase()),
  },
  {
    name: "vehicles",
    fields: { plate: "string", vin: "string", make: "string", model: "string", year: "integer", cc: "integer" },
    refs: {},
    key: vehicleKey,
  },
  { name: "devices", fields: { imei: "string", model: "string" }, refs: {}, key: (v) => join(v.imei) },
  {
    name: "organization_users",
    fields: { role: "string" },
    refs: { organization_id: restrict("organizations"), user_id: restrict("directus_users") },
    key: (v) => join(v.organization_id, v.user_id),
  },
  {
    name: "organization_vehicles",
    fields: { registered_at: "datetime" },
    refs: { organization_id: restrict("organizations"), vehicle_id: restrict("vehicles") },
    key: (v) => join(v.organization_id, v.vehicle_id),
  },
  {
    name: "organization_devices",
    fields: { registered_at: "datetime" },
    refs: { organization_id: restrict("organizations"), device_id: restrict("devices") },
    key: (v) => join(v.organization_id, v.device_id),
  },
  {
    name: "events",
    fields: {
      slug: "string",
      name: "string",
      discipline: "string",
      starts_at: "datetime",
      ends_at: "datetime",
      regulation_doc_url: "string",
      notes: "string",
    },
    refs: { organization_id: restrict("organizations") },
    key: (v) => join(v.organization_id, v.slug),
  },
  {
    name: "classes",
    fields: { code: "string", name: "string", description: "string", sort_order: "integer" },
    refs: { event_id: restrict("events") },
    key: (v) => join(v.event_id, v.code),
  },
  {
    name: "entries",
    fields: { race_number: "integer", status: "string" },
    refs: { event_id: restrict("events"), class_id: restrict("classes"), vehicle_id: restrict("vehicles") },
    key: (v) => join(v.event_id, `#${v.race_number}`),
  },
  {
    name: "entry_crew",
    fields: { role: "string" },
    refs: { entry_id: restrict("entries"), user_id: restrict("directus_users") },
    key: (v) => join(v.entry_id, v.user_id),
  },
  {
    name: "entry_devices",
    fields: {},
    refs: {
      entry_id: restrict("entries"),
      device_id: restrict("devices"),
      assigned_user_id: { collection: "directus_users", onDelete: "set-null" },
    },
    key: (v) => join(v.entry_id, v.device_id),
  },
];

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
