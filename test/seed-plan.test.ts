import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseSeedYaml, toSeedState } from "../lib/seed/data";
import { COLLECTIONS, type SeedState } from "../lib/seed/model";
import { changedCollections, observedRecord, packKeys, seedRecord, unpackKeys } from "../lib/seed/record";
import { countWrites, formatPlan, planSeed, sameValue, type ExistingState } from "../lib/seed/plan";
import { REPO_ROOT } from "./support/cli";

const desired = toSeedState(
  parseSeedYaml(readFileSync(path.join(REPO_ROOT, "seed/rally-albania-2026.yaml"), "utf8"), "rally-albania-2026.yaml"),
);

/** What Directus would hold after seeding `state`: ids assigned, refs stored as ids (as readExisting sees it). */
function existingFrom(state: SeedState, extra: Partial<Record<keyof SeedState, Record<string, Record<string, any>>>> = {}): ExistingState {
  const ids = new Map<string, string>();
  let n = 0;
  const result = {} as ExistingState;
  for (const spec of COLLECTIONS) {
    const items = { ...state[spec.name], ...(extra[spec.name] ?? {}) };
    result[spec.name] = Object.entries(items).map(([key, values]) => {
      const id = `id-${++n}`;
      ids.set(`${spec.name}:${key}`, id);
      const refIds = Object.fromEntries(
        Object.entries(spec.refs).map(([f, ref]) => [f, values[f] == null ? null : ids.get(`${ref.collection}:${values[f]}`)!]),
      );
      return { id, key, values: { ...values }, refIds };
    });
  }
  return result;
}

const clone = (s: SeedState): SeedState => structuredClone(s);
let counter = 0;
const newId = () => `new-${++counter}`;

describe("seed planning (pure)", () => {
  it("creates everything on an empty Directus, parents before children, refs resolved to the new ids", () => {
    const plan = planSeed(desired, existingFrom(clone({ ...desired, ...emptyOf() })), { newId });
    expect(countWrites(plan)).toEqual({ creates: 38, updates: 0, deletes: 0, kept: 0 });
    const byCollection = Object.fromEntries(plan.map((p) => [p.collection, p.creates]));
    const eventId = byCollection.events[0].payload.id;
    expect(byCollection.classes.every((c) => c.payload.event_id === eventId)).toBe(true);
    const entry = byCollection.entries[0].payload;
    const c2 = byCollection.classes.find((c) => c.payload.code === "C-2")!.payload.id;
    expect(entry).toMatchObject({ event_id: eventId, class_id: c2, race_number: 301, status: "registered" });
  });

  it("plans nothing when Directus already holds the data (Directus formats normalised)", () => {
    const existing = existingFrom(desired);
    const event = existing.events[0].values;
    event.starts_at = "2026-06-06T00:00:00.000Z"; // timestamps come back with milliseconds
    existing.vehicles[0].values.cc = "4500"; // and some integers as strings
    expect(countWrites(planSeed(desired, existing))).toEqual({ creates: 0, updates: 0, deletes: 0, kept: 0 });
  });

  it("updates exactly one item, one field, when one class is renamed", () => {
    const next = clone(desired);
    next.classes["msc-albania/rally-albania-2026/M-1"].name = "MOTO up to 450cc";
    const plan = planSeed(next, existingFrom(desired), { previous: desired });
    expect(countWrites(plan)).toEqual({ creates: 0, updates: 1, deletes: 0, kept: 0 });
    expect(formatPlan(plan)).toEqual([
      '~ classes msc-albania/rally-albania-2026/M-1 (name: "MOTO Under 450cc" → "MOTO up to 450cc")',
    ]);
  });

  it("deletes a removed entry with its crew and device links, children first; vehicles and devices stay", () => {
    const next = clone(desired);
    for (const c of ["entries", "entry_crew", "entry_devices"] as const) next[c] = {};
    const plan = planSeed(next, existingFrom(desired), { previous: desired });
    expect(countWrites(plan)).toEqual({ creates: 0, updates: 0, deletes: 6, kept: 0 });
    const lines = formatPlan(plan);
    expect(lines.map((l) => l.split(" ")[1])).toEqual([
      "entry_devices", "entry_devices", "entry_devices", "entry_crew", "entry_crew", "entries",
    ]);
  });

  it("never touches items it does not own: hand-made items are neither updated nor deleted", () => {
    const handMade = { "msc-albania/rally-albania-2026/X-1": { event_id: "msc-albania/rally-albania-2026", code: "X-1", name: "Hand made", description: null, sort_order: 999 } };
    const plan = planSeed(desired, existingFrom(desired, { classes: handMade }), { previous: desired });
    expect(countWrites(plan)).toEqual({ creates: 0, updates: 0, deletes: 0, kept: 0 });
  });

  it("keeps an item the seed would delete while an item it does not own still references it", () => {
    const next = clone(desired);
    delete next.classes["msc-albania/rally-albania-2026/M-1"];
    const handMadeEntry = {
      "msc-albania/rally-albania-2026/#7": { event_id: "msc-albania/rally-albania-2026", race_number: 7, status: "registered", class_id: "msc-albania/rally-albania-2026/M-1", vehicle_id: null },
    };
    const plan = planSeed(next, existingFrom(desired, { entries: handMadeEntry }), { previous: desired });
    expect(countWrites(plan)).toMatchObject({ deletes: 0, kept: 1 });
    expect(formatPlan(plan)).toEqual([
      "! classes msc-albania/rally-albania-2026/M-1 not deleted: still referenced by entries msc-albania/rally-albania-2026/#7",
    ]);
  });

  it("deletes nothing without the previous desired state (the CLI without --previous)", () => {
    const next = clone(desired);
    next.entries = {};
    next.entry_crew = {};
    next.entry_devices = {};
    expect(countWrites(planSeed(next, existingFrom(desired)))).toMatchObject({ deletes: 0 });
  });

  it.each([
    ["datetime", "2026-06-06T00:00:00Z", "2026-06-06T00:00:00.000Z", true],
    ["datetime", "2026-06-06T00:00:00Z", "2026-06-06T00:00:00", true],
    ["datetime", "2026-06-06T00:00:00Z", "2026-06-06T01:00:00+01:00", true],
    ["datetime", "2026-06-06T00:00:00Z", "2026-06-06T00:00:01Z", false],
    ["integer", 4500, "4500", true],
    ["date", "1980-03-14", "1980-03-14", true],
    ["string", "a", null, false],
  ] as const)("compares %s %s and %s as equal: %s", (type, a, b, same) => {
    expect(sameValue(type, a, b)).toBe(same);
  });
});

function emptyOf(): SeedState {
  return Object.fromEntries(COLLECTIONS.map((c) => [c.name, {}])) as unknown as SeedState;
}

describe("the seed's record for the Pulumi state, and observing it for `pulumi refresh` (pure)", () => {
  const classKey = (code: string) => Object.keys(desired.classes).find((k) => k.endsWith(`/${code}`))!;
  const owned = unpackKeys(packKeys(desired));

  it("packs the owned natural keys and unpacks them", () => {
    for (const spec of COLLECTIONS) expect(Object.keys(owned[spec.name]).sort()).toEqual(Object.keys(desired[spec.name]).sort());
  });

  it("sees nothing new when Directus holds the seed, even in its own timestamp and number formats", () => {
    const existing = existingFrom(desired);
    const event = existing.events[0].values;
    event.starts_at = String(event.starts_at).replace("Z", ".000Z");
    existing.classes[0].values.sort_order = String(existing.classes[0].values.sort_order);
    expect(observedRecord(owned, existing)).toEqual(seedRecord(desired));
  });

  it("an edited field changes its collection's digest, a deleted item its count", () => {
    const existing = existingFrom(desired);
    existing.classes.find((c) => c.key === classKey("M-2"))!.values.name = "edited by hand";
    existing.devices = existing.devices.slice(1);
    const observed = observedRecord(owned, existing);
    expect(changedCollections(observed, seedRecord(desired))).toEqual(["devices", "classes"]);
    expect(observed.devices.count).toBe(Object.keys(desired.devices).length - 1);
    expect(observed.classes.count).toBe(Object.keys(desired.classes).length);
  });

  it("finds everything gone after a database reset, and never looks at items the seed does not own", () => {
    const existing = existingFrom(emptyOf(), {
      classes: { "hand/X-1": { event_id: null, code: "X-1", name: "hand-made", description: null, sort_order: 1 } },
    });
    expect(Object.values(observedRecord(owned, existing)).every((r) => r.count === 0)).toBe(true);
  });
});
