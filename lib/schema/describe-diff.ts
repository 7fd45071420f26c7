/** Directus's schema diff (GET/POST /schema/diff, getSnapshotDiff) in words, one change per line. */

export type DiffEntry = { collection: string; field?: string; related_collection?: string | null; diff: DeepDiff[] };
type DeepDiff = { kind: "N" | "D" | "E" | "A"; path?: (string | number)[]; rhs?: unknown };

/** Like `directus schema apply --dry-run`: "Create x", "Update x.y (set meta.note)", "Delete x.y → z". */
export function describeDirectusDiff(diff: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const section of ["collections", "fields", "systemFields", "relations"]) {
    for (const entry of (diff[section] as DiffEntry[] | undefined) ?? []) {
      const first = entry.diff[0];
      const name = [entry.collection, entry.field].filter(Boolean).join(".") + (entry.related_collection ? ` → ${entry.related_collection}` : "");
      const whole = first && (first.path === undefined || first.path.length === 0);
      const verb = whole && first.kind === "N" ? "Create" : whole && first.kind === "D" ? "Delete" : "Update";
      const paths = verb === "Update" ? ` (${entry.diff.map((d) => (d.path ?? []).join(".")).join(", ")})` : "";
      lines.push(`${verb} ${section === "systemFields" ? "system field" : section.slice(0, -1)} ${name}${paths}`);
    }
  }
  return lines;
}
