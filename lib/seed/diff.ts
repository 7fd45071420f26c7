import { COLLECTIONS, type SeedState } from "./model";
import { sameValue, type ExistingState } from "./plan";

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

/**
 * The seed's items as Directus holds them now (for `pulumi refresh`): every item of `recorded` that
 * still exists, by natural key, with the values it has now. A field whose value only looks different
 * (Directus's timestamp format, integers as strings) keeps the recorded value, so only real edits
 * show as drift; items that are gone are left out. Items the seed never owned are not looked at.
 */
export function observeSeedState(recorded: SeedState, existing: ExistingState): SeedState {
  const observed = {} as SeedState;
  for (const spec of COLLECTIONS) {
    const byKey = new Map(existing[spec.name].map((item) => [item.key, item]));
    observed[spec.name] = {};
    for (const [key, values] of Object.entries(recorded[spec.name] ?? {})) {
      const current = byKey.get(key);
      if (!current) continue;
      observed[spec.name][key] = Object.fromEntries(
        Object.entries(values).map(([field, value]) => {
          const now = current.values[field] ?? null;
          return [field, sameValue(spec.fields[field] ?? "string", value ?? null, now) ? value : now];
        }),
      );
    }
  }
  return observed;
}
