import { readFileSync } from "node:fs";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import { directusRuleProblems, readSchemaRules, type RuleProblem, type SchemaRules } from "./directus-rules";
import { crossReferenceProblems } from "./cross-references";
import { seedFileSchema, type SeedFile } from "./file-format";
import { emptyState, vehicleKey, type CollectionName, type ItemValues, type SeedState } from "./model";

export { hasValidLuhnDigit, imei, seedFileSchema, type SeedFile } from "./file-format";

export class SeedValidationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length > 1 ? "s" : ""} in the seed data, nothing was written:\n` +
        problems.map((p) => `- ${p}`).join("\n"),
    );
    this.name = "SeedValidationError";
  }
}

/** Reads, parses and validates a seed file into desired items per collection. */
export function loadSeedFile(file: string): SeedState {
  return checkedSeed(parseYamlText(readSeedText(file), file), file).state;
}

function readSeedText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new SeedValidationError(file, [`cannot read the seed file: ${(error as Error).message}`]);
  }
}

/** Parses and validates seed YAML text; every problem is reported at once, naming item and field. */
export function parseSeedYaml(yamlText: string, source: string): SeedFile {
  return validateSeed(parseYamlText(yamlText, source), source);
}

/**
 * YAML 1.2's core schema (as the `yaml` package reads it: no timestamps, no merge keys), through
 * js-yaml: a 10,000-entry file parses in ~3 s and ~150 MB, where `yaml`'s document model took ~18 s and ~1 GB.
 */
function parseYamlText(yamlText: string, source: string): unknown {
  try {
    return loadYaml(yamlText, { schema: CORE_SCHEMA, filename: source });
  } catch (error) {
    throw new SeedValidationError(source, [`not valid YAML: ${(error as Error).message}`]);
  }
}

let defaultRules: SchemaRules | undefined;

/**
 * Validates seed data: its shape, its cross-references, and every field as Directus would check it
 * on write (rules from snapshots/schema.yaml). Every problem is reported at once, by item and field.
 */
export function validateSeed(raw: unknown, source: string, rules?: SchemaRules): SeedFile {
  return checkedSeed(raw, source, rules).data;
}

/** The validated file and its items (built once: a big file's items are not built twice). */
function checkedSeed(raw: unknown, source: string, rules: SchemaRules = (defaultRules ??= readSchemaRules())): { data: SeedFile; state: SeedState } {
  const parsed = seedFileSchema.safeParse(raw ?? {});
  // Cross-references and Directus's rules are checked even when some fields are malformed, so one run reports everything.
  const data = parsed.success ? parsed.data : lenient(raw);
  const shapeIssues = parsed.success ? [] : parsed.error.issues.map((issue) => ({ at: describePath(raw, issue.path), message: issue.message }));
  raw = undefined; // the parsed copy has it all: a big file's YAML tree can go before its items are built
  const reported = new Set(shapeIssues.map((issue) => issue.at));
  const state = toSeedState(data);
  const problems = [
    ...shapeIssues.map((issue) => `${issue.at}: ${issue.message}`),
    ...crossReferenceProblems(data),
    ...directusRuleProblems(state, rules)
      .filter((problem) => !reported.has(itemField(problem)))
      .map(describeRuleProblem),
  ];
  if (problems.length > 0 || !parsed.success) throw new SeedValidationError(source, problems);
  return { data: parsed.data, state };
}

function itemField(problem: RuleProblem): string {
  return problem.values ? `${fileLocation(problem.collection, problem.values)}.${problem.field}` : `${problem.collection}.${problem.field}`;
}

/** `events[rally-albania-2026].classes[M-1].name (classes.name): ...`: where to fix it in the file, and the column. */
function describeRuleProblem(problem: RuleProblem): string {
  const column = `${problem.collection}.${problem.field}`;
  if (!problem.values) return `${column}: ${problem.message}`;
  const duplicate = problem.duplicateOf ? ` (${fileLocation(problem.collection, problem.duplicateOf)} has it too)` : "";
  return `${itemField(problem)} (${column}): ${problem.message}${duplicate}`;
}

/** Where an item of a collection is written in the seed file, by natural keys. */
export function fileLocation(collection: CollectionName, v: ItemValues): string {
  const event = (eventKey: unknown) => `events[${String(eventKey).split("/")[1]}]`;
  const entry = (entryKey: unknown) => {
    const [organization, slug, number] = String(entryKey).split("/");
    return `${event(`${organization}/${slug}`)}.entries[${number}]`;
  };
  const vehicle = (key: unknown) => String(key).replace(/^(plate|vin):/, "");
  switch (collection) {
    case "organizations": return `organizations[${v.slug}]`;
    case "directus_users": return `users[${v.email}]`;
    case "vehicles": return `vehicles[${v.plate ?? v.vin}]`;
    case "devices": return `devices[${v.imei}]`;
    case "organization_users": return `organizations[${v.organization_id}].members[${v.user_id}]`;
    case "organization_vehicles": return `organizations[${v.organization_id}].vehicles[${vehicle(v.vehicle_id)}]`;
    case "organization_devices": return `organizations[${v.organization_id}].devices[${v.device_id}]`;
    case "events": return `events[${v.slug}]`;
    case "classes": return `${event(v.event_id)}.classes[${v.code}]`;
    case "entries": return `${event(v.event_id)}.entries[#${v.race_number}]`;
    case "entry_crew": return `${entry(v.entry_id)}.crew[${v.user_id}]`;
    case "entry_devices": return `${entry(v.entry_id)}.devices[${v.device_id}]`;
  }
}

/** The items a file gives with no check at all: test/seed-parity.test.ts sends them to Directus to see what it refuses. */
export function seedStateUnchecked(raw: unknown): SeedState {
  return toSeedState(lenient(raw));
}

/** Raw data with every list present, so cross-reference checks can run over malformed input. */
function lenient(raw: unknown): SeedFile {
  const obj = (x: unknown): Record<string, any> => (x && typeof x === "object" ? (x as Record<string, any>) : {});
  const list = (x: unknown): Record<string, any>[] => (Array.isArray(x) ? x.map(obj) : []);
  const top = obj(raw);
  return {
    users: list(top.users),
    vehicles: list(top.vehicles),
    devices: list(top.devices),
    organizations: list(top.organizations).map((o) => ({ ...o, members: list(o.members), vehicles: list(o.vehicles), devices: list(o.devices) })),
    events: list(top.events).map((e) => ({
      ...e,
      classes: list(e.classes),
      entries: list(e.entries).map((en) => ({ ...en, crew: list(en.crew), devices: list(en.devices) })),
    })),
  } as SeedFile;
}

/** A readable path into the raw data: list items are named by their natural key where they have one. */
function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  let node: unknown = raw;
  let out = "";
  for (const segment of path) {
    const child = node == null ? undefined : (node as Record<PropertyKey, unknown>)[segment];
    if (typeof segment === "number") out += `[${naturalLabel(child) ?? segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
    node = child;
  }
  return out || "(top level)";
}

function naturalLabel(item: unknown): string | undefined {
  if (!item || typeof item !== "object") return undefined;
  const i = item as Record<string, unknown>;
  if (i.race_number !== undefined) return `#${String(i.race_number)}`;
  const label = i.slug ?? i.code ?? i.email ?? i.imei ?? i.plate ?? i.vin ?? i.user ?? i.vehicle;
  return typeof label === "string" ? label : undefined;
}

/** The validated file as desired items per collection, keyed by natural key. */
export function toSeedState(data: SeedFile): SeedState {
  const state = emptyState();
  const vehicleKeyOf = new Map<string, string>();
  for (const v of data.vehicles) {
    const key = vehicleKey(v);
    for (const ref of [v.plate, v.vin]) if (ref) vehicleKeyOf.set(ref, key);
    state.vehicles[key] = { plate: v.plate ?? null, vin: v.vin ?? null, make: v.make, model: v.model, year: v.year ?? null, cc: v.cc ?? null };
  }
  for (const u of data.users) {
    state.directus_users[u.email] = {
      email: u.email,
      first_name: u.first_name,
      last_name: u.last_name,
      phone: u.phone ?? null,
      birth_date: u.birth_date ?? null,
      nationality: u.nationality ?? null,
    };
  }
  for (const d of data.devices) state.devices[d.imei] = { imei: d.imei, model: d.model };
  for (const org of data.organizations) {
    state.organizations[org.slug] = { slug: org.slug, name: org.name };
    for (const m of org.members) state.organization_users[`${org.slug}/${m.user}`] = { organization_id: org.slug, user_id: m.user, role: m.role ?? null };
    for (const v of org.vehicles) {
      const vehicle = vehicleKeyOf.get(v.vehicle)!;
      state.organization_vehicles[`${org.slug}/${vehicle}`] = { organization_id: org.slug, vehicle_id: vehicle, registered_at: v.registered_at ?? null };
    }
    for (const d of org.devices) state.organization_devices[`${org.slug}/${d.imei}`] = { organization_id: org.slug, device_id: d.imei, registered_at: d.registered_at ?? null };
  }
  for (const e of data.events) {
    const eventKey = `${e.organization}/${e.slug}`;
    state.events[eventKey] = {
      organization_id: e.organization,
      slug: e.slug,
      name: e.name,
      discipline: e.discipline ?? null,
      starts_at: e.starts_at,
      ends_at: e.ends_at,
      regulation_doc_url: e.regulation_doc_url ?? null,
      notes: e.notes ?? null,
    };
    for (const c of e.classes) {
      state.classes[`${eventKey}/${c.code}`] = { event_id: eventKey, code: c.code, name: c.name, description: c.description ?? null, sort_order: c.sort_order };
    }
    for (const entry of e.entries) {
      const entryKey = `${eventKey}/#${entry.race_number}`;
      state.entries[entryKey] = {
        event_id: eventKey,
        race_number: entry.race_number,
        status: entry.status,
        class_id: entry.class ? `${eventKey}/${entry.class}` : null,
        vehicle_id: entry.vehicle ? vehicleKeyOf.get(entry.vehicle)! : null,
      };
      for (const c of entry.crew) state.entry_crew[`${entryKey}/${c.user}`] = { entry_id: entryKey, user_id: c.user, role: c.role ?? null };
      for (const d of entry.devices) {
        state.entry_devices[`${entryKey}/${d.imei}`] = { entry_id: entryKey, device_id: d.imei, assigned_user_id: d.assigned_user ?? null };
      }
    }
  }
  return state;
}
