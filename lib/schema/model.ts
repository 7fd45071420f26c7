/**
 * The data model, read from its one description: snapshots/schema.yaml (captured from Directus with
 * `npm run schema:snapshot`, never hand-edited). The seed's field types and relations
 * (lib/seed/model.ts), the seed's checks (lib/seed/directus-rules.ts) and the smoke check
 * (scripts/smoke.ts) all read it from here, so a field captured from the admin UI reaches each of them
 * without a second edit.
 */
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parseSnapshot, type Snapshot, type SnapshotField, type SnapshotRelation } from "./snapshot";

export const SCHEMA_SNAPSHOT = path.resolve(__dirname, "..", "..", "snapshots", "schema.yaml");

export interface SchemaModel {
  snapshot: Snapshot;
  /** The collections Directus tracks, by name (directus_* not included). */
  collections: string[];
  field(collection: string, field: string): SnapshotField | undefined;
  fieldsOf(collection: string): SnapshotField[];
  /** The many-to-one relation stored in `collection.field`, if there is one. */
  relation(collection: string, field: string): SnapshotRelation | undefined;
}

/** Models read, by file and its version on disk: a program run needs the model twice (the seed's specs, its rules). */
const read = new Map<string, SchemaModel>();

export function readSchemaModel(file = SCHEMA_SNAPSHOT): SchemaModel {
  const { mtimeMs, size } = statSync(file);
  const version = `${file}\0${mtimeMs}\0${size}`;
  const known = read.get(version);
  if (known) return known;
  const model = parseSchemaModel(file);
  read.set(version, model);
  return model;
}

function parseSchemaModel(file: string): SchemaModel {
  const snapshot = parseSnapshot(readFileSync(file, "utf8"), file);
  const key = (collection: string, field: string) => `${collection}.${field}`;
  const fields = new Map(snapshot.fields.map((f) => [key(f.collection, f.field), f]));
  const relations = new Map(snapshot.relations.map((r) => [key(r.collection, r.field), r]));
  return {
    snapshot,
    collections: snapshot.collections.map((c) => c.collection).filter((c) => !c.startsWith("directus_")),
    field: (collection, field) => fields.get(key(collection, field)),
    fieldsOf: (collection) => snapshot.fields.filter((f) => f.collection === collection),
    relation: (collection, field) => relations.get(key(collection, field)),
  };
}
