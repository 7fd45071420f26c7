/**
 * Drift: what the live database's schema has that the snapshot lacks (an admin-UI change nobody
 * captured yet). The start-up never deletes it unless deletions are allowed, and never fails on it:
 * the rest of the snapshot is applied, the drift is logged loudly and recorded for the tools
 * (drift-record.ts), and Directus starts.
 *
 * Held back (kept as the database has it):
 * - a collection, field or relation only the database has;
 * - a field whose type the snapshot changes (Directus would drop the column, or rewrite every value
 *   with ALTER COLUMN ... TYPE): the field keeps its live definition, nothing of its change is applied.
 * Applied: everything else, including updates that replace an admin-UI edit (an edited relation, a
 * changed note); those are reported as "reverted" when the snapshot did not change since the last
 * boot that matched it, i.e. the difference came from the database side.
 */
import { typeChanges, type SchemaPlan } from "./plan";
import type { Snapshot, SnapshotField, SnapshotRelation } from "./snapshot";

export type DriftKind = "collection" | "field" | "relation";
/** kept: only the database has it; held-back: the snapshot changes its type; reverted: the snapshot's version replaced an edit. */
export type DriftStatus = "kept" | "held-back" | "reverted";

export interface DriftItem {
  kind: DriftKind;
  /** `classes`, `classes.hand_note`, `events.organization_id → organizations` */
  item: string;
  status: DriftStatus;
  detail: string;
}

export interface HeldBack {
  /** The snapshot plus what is held back: applying it deletes and rewrites nothing. */
  effective: Snapshot;
  drift: DriftItem[];
}

const fieldKey = (f: { collection: string; field: string }) => `${f.collection}.${f.field}`;
const relationName = (r: SnapshotRelation) => (r.related_collection ? `${fieldKey(r)} → ${r.related_collection}` : fieldKey(r));

/** Pure: `target` with every destructive part of applying it over `current` left as `current` has it. Both stripped. */
export function holdBackDestructive(current: Snapshot, target: Snapshot): HeldBack {
  const drift: DriftItem[] = [];
  const targetCollections = new Set(target.collections.map((c) => c.collection));
  const liveOnly = current.collections.filter((c) => !targetCollections.has(c.collection));
  const liveOnlyNames = new Set(liveOnly.map((c) => c.collection));
  for (const c of liveOnly) {
    const fields = current.fields.filter((f) => f.collection === c.collection).length;
    drift.push({ kind: "collection", item: c.collection, status: "kept", detail: `only in the database (${fields} field${fields === 1 ? "" : "s"}, with its data)` });
  }

  const targetFields = new Map(target.fields.map((f) => [fieldKey(f), f]));
  const liveFields = new Map(current.fields.map((f) => [fieldKey(f), f]));
  const fields: SnapshotField[] = target.fields.map((t) => {
    const live = liveFields.get(fieldKey(t));
    if (!live || !typeChanges(live, t)) return t;
    drift.push({ kind: "field", item: fieldKey(t), status: "held-back", detail: `type change not applied: ${typeOf(live)} in the database, ${typeOf(t)} in the snapshot` });
    return live;
  });
  for (const live of current.fields) {
    if (targetFields.has(fieldKey(live))) continue;
    fields.push(live);
    if (!liveOnlyNames.has(live.collection)) drift.push({ kind: "field", item: fieldKey(live), status: "kept", detail: `only in the database (${typeOf(live)})` });
  }

  const targetRelations = new Set(target.relations.map(fieldKey));
  const relations = [...target.relations];
  for (const live of current.relations) {
    if (targetRelations.has(fieldKey(live))) continue;
    relations.push(live);
    if (!liveOnlyNames.has(live.collection)) drift.push({ kind: "relation", item: relationName(live), status: "kept", detail: "only in the database" });
  }

  return { effective: { ...target, collections: [...target.collections, ...liveOnly], fields, relations }, drift };
}

/** The plan's updates, as drift the snapshot put back (call only when the database side changed). */
export function revertedEdits(plan: SchemaPlan): DriftItem[] {
  const detail = "edited in the database; the snapshot's definition was applied over it";
  return [
    ...plan.update.collections.map((item) => ({ kind: "collection" as const, item, status: "reverted" as const, detail })),
    ...plan.update.fields.map((item) => ({ kind: "field" as const, item, status: "reverted" as const, detail })),
    ...plan.update.relations.map((item) => ({ kind: "relation" as const, item, status: "reverted" as const, detail })),
  ];
}

export const CAPTURE_HINT = "npm run stack -- schema:snapshot (reads the database, works with Directus stopped), review git diff snapshots/schema.yaml, commit";
export const ALLOW_ONCE_HINT =
  "SCHEMA_ALLOW_DELETIONS=true for one boot; on a Pulumi stack: npm run pulumi -- config set schemaAllowDeletions true --stack <stack>, npm run dev, " +
  "then npm run pulumi -- config rm schemaAllowDeletions --stack <stack>";

/** The loud lines: each item, then the two ways out when something is held back. */
export function driftLines(drift: DriftItem[]): string[] {
  if (drift.length === 0) return [];
  const held = drift.filter((d) => d.status !== "reverted");
  const reverted = drift.filter((d) => d.status === "reverted");
  const lines: string[] = [];
  if (held.length > 0) {
    lines.push(`!! SCHEMA DRIFT: the database has ${held.length} thing${held.length === 1 ? "" : "s"} the snapshot lacks; KEPT, not deleted (Directus starts anyway):`);
    for (const d of held) lines.push(`!!   ${d.kind} ${d.item}: ${d.detail}`);
    lines.push(`!! to keep it: capture it: ${CAPTURE_HINT}`);
    lines.push(`!! to drop it: allow the deletion once: ${ALLOW_ONCE_HINT}`);
  }
  if (reverted.length > 0) {
    lines.push(`!! SCHEMA DRIFT: ${reverted.length} admin-UI edit${reverted.length === 1 ? " was" : "s were"} put back to the snapshot's definition (no data lost):`);
    for (const d of reverted) lines.push(`!!   ${d.kind} ${d.item}: ${d.detail}`);
    lines.push(`!! to keep an edit, make it again and capture it: ${CAPTURE_HINT}`);
  }
  return lines;
}

function typeOf(field: SnapshotField): string {
  const dataType = (field.schema as { data_type?: string } | null | undefined)?.data_type;
  return dataType ? `${field.type}, column ${dataType}` : field.type;
}
