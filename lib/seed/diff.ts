import { COLLECTIONS, type SeedState } from "./model";
import { sameValue } from "./plan";

export interface SeedChange {
  kind: "add" | "update" | "delete";
  collection: string;
  key: string;
  /** For updates: the fields whose desired value changed. */
  fields?: string[];
}

/** What changed between two desired states, by collection and natural key. Local: no network. */
export function diffSeedStates(before: SeedState, after: SeedState): SeedChange[] {
  const changes: SeedChange[] = [];
  for (const spec of COLLECTIONS) {
    const old = before[spec.name] ?? {};
    const now = after[spec.name] ?? {};
    for (const [key, values] of Object.entries(now)) {
      if (!(key in old)) {
        changes.push({ kind: "add", collection: spec.name, key });
        continue;
      }
      const fields = Object.keys({ ...values, ...old[key] }).filter(
        (f) => !sameValue(spec.fields[f] ?? "string", old[key][f] ?? null, values[f] ?? null),
      );
      if (fields.length > 0) changes.push({ kind: "update", collection: spec.name, key, fields });
    }
    for (const key of Object.keys(old)) if (!(key in now)) changes.push({ kind: "delete", collection: spec.name, key });
  }
  return changes;
}
