/**
 * Directus schema snapshots (what `directus schema snapshot` and GET /schema/snapshot produce):
 * parsing, validation, and the one stable serialisation that snapshots/schema.yaml is written in.
 */
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import YAML from "yaml";
import { z } from "zod";

const meta = z.record(z.string(), z.unknown()).nullable();

const collectionSchema = z.looseObject({
  collection: z.string().min(1),
  meta,
  schema: z.record(z.string(), z.unknown()).nullable().optional(),
});

const fieldSchema = z.looseObject({
  collection: z.string().min(1),
  field: z.string().min(1),
  type: z.string(),
  meta,
  schema: z.record(z.string(), z.unknown()).nullable().optional(),
});

const systemFieldSchema = z.looseObject({
  collection: z.string().min(1),
  field: z.string().min(1),
});

const relationSchema = z.looseObject({
  collection: z.string().min(1),
  field: z.string().min(1),
  related_collection: z.string().nullable(),
  meta,
  schema: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const snapshotSchema = z.looseObject({
  version: z.number(),
  directus: z.string(),
  vendor: z.string().optional(),
  collections: z.array(collectionSchema),
  fields: z.array(fieldSchema),
  systemFields: z.array(systemFieldSchema).optional(),
  relations: z.array(relationSchema),
});

export type Snapshot = z.infer<typeof snapshotSchema>;
export type SnapshotCollection = z.infer<typeof collectionSchema>;
export type SnapshotField = z.infer<typeof fieldSchema>;
export type SnapshotRelation = z.infer<typeof relationSchema>;

export class InvalidSnapshotError extends Error {
  readonly exitCode = 1;
  constructor(source: string, problems: string[]) {
    super(`${source} is not a Directus schema snapshot:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    this.name = "InvalidSnapshotError";
  }
}

/**
 * Reads YAML or JSON (JSON is YAML) and checks the shape Directus expects. Parsed with js-yaml's core
 * schema (YAML 1.2, as the `yaml` package that writes it): every program run reads the snapshot, and
 * js-yaml takes ~30 ms where `yaml`'s document model takes ~150 ms.
 */
export function parseSnapshot(text: string, source = "snapshot"): Snapshot {
  let raw: unknown;
  try {
    raw = loadYaml(text, { schema: CORE_SCHEMA, filename: source });
  } catch (error) {
    throw new InvalidSnapshotError(source, [(error as Error).message]);
  }
  return validateSnapshot(raw, source);
}

export function validateSnapshot(raw: unknown, source = "snapshot"): Snapshot {
  const result = snapshotSchema.safeParse(raw);
  if (!result.success) {
    throw new InvalidSnapshotError(
      source,
      result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * The canonical form: collections by name; fields by collection, then their form order (meta.sort),
 * then name; relations by collection and field; every object's keys sorted (arrays keep their order:
 * choices and `special` lists mean something in order). Directus orders fields by internal row ids,
 * which differ between databases; this order does not, so a re-capture gives no spurious diff.
 */
export function normalizeSnapshot(snapshot: Snapshot): Snapshot {
  const sorted = {
    version: snapshot.version,
    directus: snapshot.directus,
    vendor: snapshot.vendor,
    collections: [...snapshot.collections].sort((a, b) => compare(a.collection, b.collection)),
    fields: [...snapshot.fields].sort(
      (a, b) => compare(a.collection, b.collection) || compare(formSort(a), formSort(b)) || compare(a.field, b.field),
    ),
    systemFields: [...(snapshot.systemFields ?? [])].sort((a, b) => compare(a.collection, b.collection) || compare(a.field, b.field)),
    relations: [...snapshot.relations].sort((a, b) => compare(a.collection, b.collection) || compare(a.field, b.field)),
  };
  const { version, directus, vendor, ...lists } = sorted;
  return { version, directus, ...(vendor === undefined ? {} : { vendor }), ...(sortKeysDeep(lists) as typeof lists) };
}

/** YAML exactly as committed in snapshots/schema.yaml: normalised, no line folding. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return YAML.stringify(normalizeSnapshot(snapshot), { lineWidth: 0 });
}

function formSort(field: { meta: Record<string, unknown> | null }): number {
  const sort = field.meta?.sort;
  return typeof sort === "number" ? sort : Number.MAX_SAFE_INTEGER;
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
