/**
 * snapshots/schema.yaml is the model's one description: the seed's types and relations, its checks
 * and the smoke check read it. A field captured from the admin UI is therefore a complete change.
 * Also the start-up's drift handling, pure: what is held back, and what the log says.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { driftLines, holdBackDestructive } from "../lib/schema/drift";
import { readSchemaModel, SCHEMA_SNAPSHOT } from "../lib/schema/model";
import { planSchemaApply } from "../lib/schema/plan";
import { parseSnapshot, type Snapshot } from "../lib/schema/snapshot";
import { loadSeedFile, validateSeed } from "../lib/seed/data";
import { readSchemaRules } from "../lib/seed/directus-rules";
import { COLLECTION_NAMES, COLLECTIONS, specFrom } from "../lib/seed/model";
import { REPO_ROOT } from "./support/cli";

/** Spec §2 (../shared/spec/phase-1.md): "12 collections"; its `users` is the built-in directus_users. */
const SPEC_COLLECTIONS = [
  "organizations", "directus_users", "organization_users", "vehicles", "organization_vehicles", "devices",
  "organization_devices", "events", "classes", "entries", "entry_crew", "entry_devices",
];
const SPEC_FILE = path.resolve(REPO_ROOT, "..", "shared", "spec", "phase-1.md");
const SEED_FILE = path.join(REPO_ROOT, "seed", "rally-albania-2026.yaml");

const work = mkdtempSync(path.join(os.tmpdir(), "trm-schema-model-"));
/** schema.yaml with one change, as a capture after an admin-UI edit would write it. */
function capturedWith(change: (snapshot: Snapshot) => void): string {
  const snapshot = parseSnapshot(readFileSync(SCHEMA_SNAPSHOT, "utf8"));
  change(snapshot);
  const file = path.join(work, `captured-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(snapshot));
  return file;
}
const handNote = (nullable: boolean) => ({
  collection: "classes",
  field: "hand_note",
  type: "string",
  meta: { interface: "input", sort: 99 },
  schema: { name: "hand_note", table: "classes", data_type: "character varying", max_length: 255, is_nullable: nullable, default_value: null, is_unique: false },
});

describe("the collection list", () => {
  it("the seed writes exactly the spec's 12 collections", () => {
    expect([...COLLECTION_NAMES].sort()).toEqual([...SPEC_COLLECTIONS].sort());
    expect(COLLECTIONS.map((c) => c.name)).toEqual([...COLLECTION_NAMES]);
  });

  it("the spec still says 12 collections and names each (checked where ../shared/spec is beside the clone)", () => {
    if (!existsSync(SPEC_FILE)) return void expect(SPEC_COLLECTIONS).toHaveLength(12);
    const spec = readFileSync(SPEC_FILE, "utf8");
    expect(spec).toMatch(/## 2\. Schema: 12 collections/);
    const named = [...spec.matchAll(/^- \*\*(\w+)\*\*/gm)].map((m) => (m[1] === "users" ? "directus_users" : m[1]));
    expect(named.sort()).toEqual([...SPEC_COLLECTIONS].sort());
  });

  it("snapshots/schema.yaml has every collection the seed writes (directus_users is Directus's own)", () => {
    const model = readSchemaModel();
    expect(SPEC_COLLECTIONS.filter((c) => c !== "directus_users" && !model.collections.includes(c))).toEqual([]);
  });
});

describe("the seed reads its types and relations from snapshots/schema.yaml", () => {
  it("every field the seed sets is in the schema (directus_users' own email and names aside)", () => {
    const model = readSchemaModel();
    const own = ["directus_users.email", "directus_users.first_name", "directus_users.last_name"];
    for (const spec of COLLECTIONS) {
      for (const field of [...Object.keys(spec.fields), ...Object.keys(spec.refs)]) {
        if (!own.includes(`${spec.name}.${field}`)) expect(model.field(spec.name, field), `${spec.name}.${field}`).toBeDefined();
      }
    }
    const entryDevices = COLLECTIONS.find((c) => c.name === "entry_devices")!;
    expect(entryDevices.refs).toEqual({
      entry_id: { collection: "entries", onDelete: "restrict" },
      device_id: { collection: "devices", onDelete: "restrict" },
      assigned_user_id: { collection: "directus_users", onDelete: "set-null" },
    });
  });

  it("a captured type change reaches the seed's spec without another edit", () => {
    const file = capturedWith((s) => (s.fields.find((f) => f.collection === "classes" && f.field === "sort_order")!.type = "string"));
    const classes = COLLECTIONS.find((c) => c.name === "classes")!;
    expect(classes.fields.sort_order).toBe("integer");
    expect(specFrom({ name: "classes", fields: Object.keys({ ...classes.fields, ...classes.refs }), key: classes.key }, readSchemaModel(file)).fields.sort_order).toBe("string");
  });

  it("a captured nullable field (classes.hand_note) is a complete change: the seed leaves it alone and its checks pass", () => {
    const file = capturedWith((s) => s.fields.push(handNote(true)));
    expect(readSchemaModel(file).field("classes", "hand_note")).toBeDefined();
    const raw = parse(readFileSync(SEED_FILE, "utf8"));
    expect(() => validateSeed(raw, SEED_FILE, readSchemaRules(file))).not.toThrow();
    // the seed never sets it, so values typed in the admin UI stay
    const state = loadSeedFile(SEED_FILE);
    expect(Object.values(state.classes).every((item) => !("hand_note" in item))).toBe(true);
  });

  it("a captured required field the seed cannot set is named by the seed's checks", () => {
    const file = capturedWith((s) => s.fields.push(handNote(false)));
    const raw = parse(readFileSync(SEED_FILE, "utf8"));
    expect(() => validateSeed(raw, SEED_FILE, readSchemaRules(file))).toThrow(/classes\.hand_note.*requires classes\.hand_note \(NOT NULL, no default\), but the seed does not set it/);
  });
});

describe("drift at boot (holdBackDestructive)", () => {
  const target = () => parseSnapshot(readFileSync(SCHEMA_SNAPSHOT, "utf8"));
  const liveWith = (change: (s: Snapshot) => void) => {
    const live = target();
    change(live);
    return live;
  };

  it("keeps a field, a collection and a relation only the database has, and applies the rest", () => {
    const live = liveWith((s) => {
      s.fields.push(handNote(true));
      s.collections.push({ collection: "hand_notes", meta: { icon: "note" }, schema: { name: "hand_notes" } });
      s.fields.push({ collection: "hand_notes", field: "id", type: "uuid", meta: { special: ["uuid"] }, schema: { is_primary_key: true } });
      s.fields.push({ collection: "classes", field: "owner", type: "uuid", meta: { special: ["m2o"] }, schema: { data_type: "uuid" } });
      s.relations.push({ collection: "classes", field: "owner", related_collection: "directus_users", meta: {}, schema: { on_delete: "SET NULL" } });
      s.collections.find((c) => c.collection === "classes")!.meta!.note = "edited by hand";
    });
    const plan = planSchemaApply(live, target());
    expect(plan.delete).toEqual({ collections: ["hand_notes"], fields: ["classes.hand_note", "classes.owner"], relations: ["classes.owner → directus_users"] });
    const { effective, drift } = holdBackDestructive(live, target());
    expect(drift.map((d) => `${d.status} ${d.kind} ${d.item}`)).toEqual([
      "kept collection hand_notes", "kept field classes.hand_note", "kept field classes.owner", "kept relation classes.owner → directus_users",
    ]);
    const rest = planSchemaApply(live, effective);
    expect(rest.hasDeletions).toBe(false);
    expect(rest.update.collections).toEqual(["classes"]); // the note edit is not destructive: the snapshot's is applied
  });

  it("holds back a type change (Directus would drop or rewrite the column), counted as a deletion by the guard", () => {
    const live = liveWith((s) => {
      const sort = s.fields.find((f) => f.collection === "classes" && f.field === "sort_order")!;
      Object.assign(sort, { type: "string", schema: { ...sort.schema, data_type: "character varying" } });
    });
    const plan = planSchemaApply(live, target());
    expect(plan.delete.fields).toEqual(["classes.sort_order"]);
    const { effective, drift } = holdBackDestructive(live, target());
    expect(drift).toEqual([
      { kind: "field", item: "classes.sort_order", status: "held-back", detail: "type change not applied: string, column character varying in the database, integer, column integer in the snapshot" },
    ]);
    expect(planSchemaApply(live, effective).hasChanges).toBe(false);
  });

  it("says loudly what is kept and names both ways out", () => {
    const { drift } = holdBackDestructive(liveWith((s) => s.fields.push(handNote(true))), target());
    expect(driftLines(drift)).toEqual([
      "!! SCHEMA DRIFT: the database has 1 thing the snapshot lacks; KEPT, not deleted (Directus starts anyway):",
      "!!   field classes.hand_note: only in the database (string, column character varying)",
      "!! to keep it: capture it: npm run stack -- schema:snapshot (reads the database, works with Directus stopped), review git diff snapshots/schema.yaml, commit",
      "!! to drop it: allow the deletion once: SCHEMA_ALLOW_DELETIONS=true for one boot; on a Pulumi stack: npm run pulumi -- config set schemaAllowDeletions true --stack <stack>, npm run dev, then npm run pulumi -- config rm schemaAllowDeletions --stack <stack>",
    ]);
    expect(driftLines([])).toEqual([]);
  });
});
