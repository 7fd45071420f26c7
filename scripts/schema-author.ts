/**
 * schema:author: creates the Phase 1 data model (spec §2) through the Directus API, the way the team
 * builds it in the admin UI, then captures snapshots/schema.yaml from it. Regenerate the file with:
 *   npm run schema:author                  # throwaway PostgreSQL 16 + Directus 11.17.4, nothing else needed
 *   npm run schema:author -- --out x.yaml  # somewhere else
 * or against an instance of your own that has none of these collections yet:
 *   DIRECTUS_URL=... DIRECTUS_ADMIN_EMAIL=... DIRECTUS_ADMIN_PASSWORD=... npm run schema:author
 *
 * Composite uniques are not here: Directus snapshots cannot hold them (db-post/ adds them in SQL).
 */
import { createCollection, createField, createRelation, readCollections, type NestedPartial, type DirectusCollection } from "@directus/sdk";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { runMigrations } from "../lib/migrations/runner";
import { captureSnapshot, connectDirectus, type SchemaClient } from "../lib/schema/rest";
import { serializeSnapshot } from "../lib/schema/snapshot";
import { readDirectusConnection } from "../lib/schema/settings";
import { findSqlOwnedTables } from "../lib/schema/strip";
import prepareMachine from "../tools/harness/machine-setup";
import { startPostgres } from "../tools/harness/postgres";
import { startDirectus } from "../tools/directus-runtime/index";
import { REPO_ROOT, MIGRATION_DIRS, outputPath, reportFailure } from "./schema-support";

// ---------------------------------------------------------------------------------------------
// Vocabulary of spec §2

/** Entry lifecycle, in order. `registered`: a new entry; `withdrawn`: the archive value. */
export const ENTRY_STATUSES = [
  { value: "registered", text: "Registered", foreground: "#18222F", background: "#D3DAE4", note: "entry received, not yet confirmed" },
  { value: "confirmed", text: "Confirmed", foreground: "#FFFFFF", background: "#3399FF", note: "accepted by the organizer (fee paid, documents complete)" },
  { value: "scrutineered", text: "Scrutineered", foreground: "#FFFFFF", background: "#2ECDA7", note: "passed administrative and technical checks; may start" },
  { value: "racing", text: "Racing", foreground: "#FFFFFF", background: "#FFA439", note: "on the course during the event" },
  { value: "finished", text: "Finished", foreground: "#FFFFFF", background: "#18222F", note: "classified at the finish" },
  { value: "retired", text: "Retired", foreground: "#FFFFFF", background: "#E35169", note: "started but did not finish (DNF)" },
  { value: "disqualified", text: "Disqualified", foreground: "#FFFFFF", background: "#A2001F", note: "excluded by the stewards" },
  { value: "withdrawn", text: "Withdrawn", foreground: "#18222F", background: "#A2B5CD", note: "pulled out before the start; archived" },
] as const;

const ORGANIZATION_ROLES = ["org-admin", "race-director", "marshal", "timekeeper", "participant", "viewer"];
const DISCIPLINES = ["rally", "time-trial", "regatta", "trail-run", "hike"];
const CREW_ROLES = ["pilot", "co-pilot", "navigator", "mechanic", "rider", "runner", "hiker"];

// ---------------------------------------------------------------------------------------------
// Field builders

type Meta = Record<string, unknown>;
interface FieldDef {
  field: string;
  type: string;
  meta: Meta;
  schema: Record<string, unknown> | null;
}
interface RelationDef {
  collection: string;
  field: string;
  related_collection: string;
  onDelete: "RESTRICT" | "SET NULL";
  /** The o2m alias on the related collection, if any. */
  oneField?: string;
}
interface CollectionDef {
  collection: string;
  meta: Meta;
  fields: FieldDef[];
}

interface Common {
  required?: boolean;
  note?: string;
  width?: "half" | "full";
}

function meta(common: Common, rest: Meta): Meta {
  return { required: common.required ?? false, note: common.note ?? null, width: common.width ?? "full", ...rest };
}

const nullable = (common: Common) => ({ is_nullable: !common.required });

/**
 * A field's validation rule. Directus 11 applies it to a null too ("Value is required"), so on a
 * field that may be empty the rule lets null through: otherwise nothing could clear the field.
 */
function validationRule(field: string, rule: Record<string, unknown>, common: Common, message: string): Meta {
  const check = { [field]: rule };
  return { validation: { _and: [common.required ? check : { _or: [{ [field]: { _null: true } }, check] }] }, validation_message: message };
}

function id(): FieldDef {
  return {
    field: "id",
    type: "uuid",
    meta: { hidden: true, readonly: true, interface: "input", special: ["uuid"], width: "full" },
    schema: { is_primary_key: true, has_auto_increment: false },
  };
}

function string(field: string, common: Common & { unique?: boolean; maxLength?: number; options?: Meta; validation?: [string, string] } = {}): FieldDef {
  return {
    field,
    type: "string",
    meta: meta(common, {
      interface: "input",
      options: common.options ?? null,
      ...(common.validation ? validationRule(field, { _regex: common.validation[0] }, common, common.validation[1]) : {}),
    }),
    schema: { ...nullable(common), is_unique: common.unique ?? false, max_length: common.maxLength ?? 255 },
  };
}

function text(field: string, common: Common = {}): FieldDef {
  return { field, type: "text", meta: meta(common, { interface: "input-multiline" }), schema: nullable(common) };
}

function integer(field: string, common: Common & { min?: number; options?: Meta } = {}): FieldDef {
  return {
    field,
    type: "integer",
    meta: meta(common, {
      interface: "input",
      options: common.options ?? (common.min !== undefined ? { min: common.min } : null),
      ...(common.min !== undefined ? validationRule(field, { _gte: common.min }, common, `at least ${common.min}`) : {}),
    }),
    schema: nullable(common),
  };
}

function datetime(field: string, common: Common = {}): FieldDef {
  return {
    field,
    type: "timestamp",
    meta: meta(common, { interface: "datetime", display: "datetime", display_options: { format: "long" } }),
    schema: nullable(common),
  };
}

function date(field: string, common: Common = {}): FieldDef {
  return { field, type: "date", meta: meta(common, { interface: "datetime", display: "datetime", display_options: { format: "short" } }), schema: nullable(common) };
}

function stamp(field: "date_created" | "date_updated"): FieldDef {
  return {
    field,
    type: "timestamp",
    meta: {
      special: [field === "date_created" ? "date-created" : "date-updated"],
      interface: "datetime",
      readonly: true,
      hidden: true,
      width: "half",
      display: "datetime",
      display_options: { relative: true },
      note: field === "date_created" ? "set by Directus on create" : "set by Directus on every update",
    },
    schema: { is_nullable: true },
  };
}

function dropdown(field: string, values: readonly string[] | readonly { value: string; text: string; foreground: string; background: string }[], common: Common & { defaultValue?: string } = {}): FieldDef {
  const choices = values.map((v) => (typeof v === "string" ? { text: v, value: v } : { text: v.text, value: v.value }));
  const labels = values.map((v) =>
    typeof v === "string" ? { text: v, value: v } : { text: v.text, value: v.value, foreground: v.foreground, background: v.background },
  );
  return {
    field,
    type: "string",
    meta: meta(common, {
      interface: "select-dropdown",
      options: { choices },
      display: "labels",
      display_options: { choices: labels, showAsDot: typeof values[0] !== "string" },
    }),
    schema: { ...nullable(common), max_length: 32, default_value: common.defaultValue ?? null },
  };
}

/** NOT NULL in the database but optional in the API: the default fills it in. */
function notNull(def: FieldDef): FieldDef {
  return { ...def, schema: { ...def.schema, is_nullable: false } };
}

function m2o(field: string, template: string, common: Common = {}): FieldDef {
  return {
    field,
    type: "uuid",
    meta: meta(common, {
      special: ["m2o"],
      interface: "select-dropdown-m2o",
      options: { template },
      display: "related-values",
      display_options: { template },
    }),
    schema: nullable(common),
  };
}

function o2m(field: string, template: string, note: string): FieldDef {
  return {
    field,
    type: "alias",
    meta: {
      special: ["o2m"],
      interface: "list-o2m",
      options: { template, enableSelect: false },
      display: "related-values",
      display_options: { template },
      note,
      width: "full",
    },
    schema: null,
  };
}

function collection(name: string, collectionMeta: Meta, fields: FieldDef[]): CollectionDef {
  return {
    collection: name,
    meta: { hidden: false, singleton: false, accountability: "all", ...collectionMeta },
    // The form shows fields in this order; meta.sort also gives the snapshot a stable order.
    fields: fields.map((f, index) => ({ ...f, meta: { ...f.meta, sort: index + 1 } })),
  };
}

// ---------------------------------------------------------------------------------------------
// The model (spec §2)

const USER_TEMPLATE = "{{first_name}} {{last_name}}";
const VEHICLE_TEMPLATE = "{{make}} {{model}} {{plate}}";
const DEVICE_TEMPLATE = "{{model}} {{imei}}";

export const COLLECTIONS: CollectionDef[] = [
  collection("organizations", { icon: "corporate_fare", sort: 1, display_template: "{{name}}", note: "Clubs and companies that run events. Tenancy goes through organization_users." }, [
    id(),
    string("name", { required: true, width: "half", note: "e.g. Motorsport Club Albania" }),
    string("slug", { required: true, unique: true, width: "half", options: { slug: true, trim: true }, note: "URL-safe and unique, e.g. msc-albania" }),
    o2m("events", "{{name}}", "Events this organization runs"),
    o2m("members", "{{user_id.first_name}} {{user_id.last_name}} ({{role}})", "People in this organization and their roles"),
    o2m("registered_vehicles", "{{vehicle_id.make}} {{vehicle_id.model}} {{vehicle_id.plate}}", "Vehicles registered to this organization"),
    o2m("registered_devices", "{{device_id.model}} {{device_id.imei}}", "Tracking devices registered to this organization"),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("organization_users", { icon: "badge", sort: 9, display_template: "{{user_id.first_name}} {{user_id.last_name}} · {{role}}", note: "Who belongs to which organization, in which role. One row per (organization, user)." }, [
    id(),
    m2o("organization_id", "{{name}}", { required: true, width: "half" }),
    m2o("user_id", `${USER_TEMPLATE} ({{email}})`, { required: true, width: "half" }),
    dropdown("role", ORGANIZATION_ROLES, { width: "half", note: "What this person may do for the organization" }),
  ]),
  collection("vehicles", { icon: "directions_car", sort: 7, display_template: VEHICLE_TEMPLATE, note: "Cars, bikes, quads, SSVs: one row per physical vehicle." }, [
    id(),
    string("make", { required: true, width: "half", note: "e.g. Toyota" }),
    string("model", { required: true, width: "half", note: "e.g. Land Cruiser 70" }),
    integer("year", { width: "half", min: 1900, note: "Year of manufacture" }),
    integer("cc", { width: "half", min: 0, note: "Engine displacement in cm³" }),
    string("vin", { width: "half", maxLength: 32, note: "Vehicle identification number" }),
    string("plate", { width: "half", maxLength: 32, note: "Registration plate, e.g. AA-001-AA" }),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("organization_vehicles", { icon: "garage", sort: 10, display_template: "{{vehicle_id.make}} {{vehicle_id.model}} · {{organization_id.name}}", note: "Vehicles registered to an organization. One row per (organization, vehicle)." }, [
    id(),
    m2o("organization_id", "{{name}}", { required: true, width: "half" }),
    m2o("vehicle_id", VEHICLE_TEMPLATE, { required: true, width: "half" }),
    datetime("registered_at", { width: "half", note: "When the organization registered the vehicle" }),
  ]),
  collection("devices", { icon: "gps_fixed", sort: 8, display_template: DEVICE_TEMPLATE, note: "Teltonika trackers and panic buttons, known by IMEI. Positions arrive keyed by IMEI." }, [
    id(),
    string("imei", { required: true, unique: true, width: "half", maxLength: 15, validation: ["^[0-9]{15}$", "An IMEI is exactly 15 digits"], options: { font: "monospace", trim: true }, note: "15 digits, printed on the device; must be unique" }),
    string("model", { required: true, width: "half", maxLength: 32, note: "e.g. FMB920 (vehicle tracker), FMB003 (body-worn panic button)" }),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("organization_devices", { icon: "devices_other", sort: 11, display_template: "{{device_id.model}} {{device_id.imei}} · {{organization_id.name}}", note: "Devices registered to an organization. One row per (organization, device)." }, [
    id(),
    m2o("organization_id", "{{name}}", { required: true, width: "half" }),
    m2o("device_id", DEVICE_TEMPLATE, { required: true, width: "half" }),
    datetime("registered_at", { width: "half", note: "When the organization registered the device" }),
  ]),
  collection("events", { icon: "flag", sort: 2, display_template: "{{name}}", note: "A competition run by an organization, e.g. Rally Albania 2026." }, [
    id(),
    m2o("organization_id", "{{name}}", { required: true, width: "half", note: "The organizer" }),
    dropdown("discipline", DISCIPLINES, { required: true, width: "half" }),
    string("name", { required: true, width: "half", note: "e.g. Rally Albania 2026" }),
    string("slug", { required: true, width: "half", options: { slug: true, trim: true }, note: "URL-safe, unique within the organization, e.g. rally-albania-2026" }),
    datetime("starts_at", { required: true, width: "half" }),
    datetime("ends_at", { required: true, width: "half" }),
    string("regulation_doc_url", { options: { iconLeft: "link" }, note: "Where the regulations are published" }),
    text("notes"),
    o2m("classes", "{{code}} {{name}}", "Classes of this event"),
    o2m("entries", "#{{race_number}} {{status}}", "Entries of this event"),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("classes", { icon: "category", sort: 3, display_template: "{{code}} {{name}}", sort_field: "sort_order", note: "Competition classes of an event (regulations), e.g. M-1 MOTO Under 450cc." }, [
    id(),
    m2o("event_id", "{{name}}", { required: true, width: "half" }),
    string("code", { required: true, width: "half", maxLength: 16, note: "As in the regulations, e.g. M-1; unique within the event" }),
    string("name", { required: true, note: "e.g. MOTO Under 450cc" }),
    text("description", { note: "Eligibility, in plain text" }),
    integer("sort_order", { width: "half", note: "Order in lists (drag to reorder)" }),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("entries", {
    icon: "sports_motorsports",
    sort: 4,
    display_template: "#{{race_number}} {{vehicle_id.make}} {{vehicle_id.model}}",
    archive_field: "status",
    archive_value: "withdrawn",
    unarchive_value: "registered",
    archive_app_filter: true,
    note: "The unit of timing: one per vehicle, or per solo participant.",
  }, [
    id(),
    m2o("event_id", "{{name}}", { required: true, width: "half" }),
    integer("race_number", { required: true, width: "half", min: 1, note: "Unique within the event" }),
    m2o("class_id", "{{code}} {{name}}", { width: "half" }),
    notNull(
      dropdown("status", ENTRY_STATUSES, {
        width: "half",
        defaultValue: "registered",
        note: ENTRY_STATUSES.map((s) => `${s.value}: ${s.note}`).join("; "),
      }),
    ),
    m2o("vehicle_id", VEHICLE_TEMPLATE, { width: "half", note: "None for trail runs and hikes" }),
    o2m("crew", "{{user_id.first_name}} {{user_id.last_name}} ({{role}})", "Who is on this entry"),
    o2m("devices", "{{device_id.model}} {{device_id.imei}}", "Trackers and panic buttons on this entry"),
    stamp("date_created"),
    stamp("date_updated"),
  ]),
  collection("entry_crew", { icon: "groups", sort: 5, display_template: "{{user_id.first_name}} {{user_id.last_name}} · {{role}}", note: "People on an entry. One row per (entry, user)." }, [
    id(),
    m2o("entry_id", "#{{race_number}}", { required: true, width: "half" }),
    m2o("user_id", USER_TEMPLATE, { required: true, width: "half" }),
    dropdown("role", CREW_ROLES, { required: true, width: "half" }),
  ]),
  collection("entry_devices", { icon: "settings_remote", sort: 6, display_template: "{{device_id.model}} {{device_id.imei}} · #{{entry_id.race_number}}", note: "Devices on an entry. One row per (entry, device)." }, [
    id(),
    m2o("entry_id", "#{{race_number}}", { required: true, width: "half" }),
    m2o("device_id", DEVICE_TEMPLATE, { required: true, width: "half" }),
    m2o("assigned_user_id", USER_TEMPLATE, { width: "half", note: "The person wearing it (a panic button); empty for vehicle-mounted devices. Cleared if the user is deleted." }),
  ]),
];

/** Custom fields on the built-in directus_users (no organization field: tenancy is organization_users). */
export const USER_FIELDS: FieldDef[] = [
  string("phone", { width: "half", maxLength: 32, options: { iconLeft: "phone", placeholder: "+355 69 123 4567" }, note: "With country code" }),
  date("birth_date", { width: "half", note: "Age-based classes (M-5 to M-7) depend on it" }),
  string("nationality", { width: "half", maxLength: 2, validation: ["^[A-Z]{2}$", "Two capital letters, ISO 3166-1 alpha-2 (e.g. AL)"], options: { font: "monospace", placeholder: "AL", trim: true }, note: "ISO 3166-1 alpha-2 country code, e.g. AL" }),
];

const RESTRICT = "RESTRICT" as const;
export const RELATIONS: RelationDef[] = [
  { collection: "organization_users", field: "organization_id", related_collection: "organizations", onDelete: RESTRICT, oneField: "members" },
  { collection: "organization_users", field: "user_id", related_collection: "directus_users", onDelete: RESTRICT },
  { collection: "organization_vehicles", field: "organization_id", related_collection: "organizations", onDelete: RESTRICT, oneField: "registered_vehicles" },
  { collection: "organization_vehicles", field: "vehicle_id", related_collection: "vehicles", onDelete: RESTRICT },
  { collection: "organization_devices", field: "organization_id", related_collection: "organizations", onDelete: RESTRICT, oneField: "registered_devices" },
  { collection: "organization_devices", field: "device_id", related_collection: "devices", onDelete: RESTRICT },
  { collection: "events", field: "organization_id", related_collection: "organizations", onDelete: RESTRICT, oneField: "events" },
  { collection: "classes", field: "event_id", related_collection: "events", onDelete: RESTRICT, oneField: "classes" },
  { collection: "entries", field: "event_id", related_collection: "events", onDelete: RESTRICT, oneField: "entries" },
  { collection: "entries", field: "class_id", related_collection: "classes", onDelete: RESTRICT },
  { collection: "entries", field: "vehicle_id", related_collection: "vehicles", onDelete: RESTRICT },
  { collection: "entry_crew", field: "entry_id", related_collection: "entries", onDelete: RESTRICT, oneField: "crew" },
  { collection: "entry_crew", field: "user_id", related_collection: "directus_users", onDelete: RESTRICT },
  { collection: "entry_devices", field: "entry_id", related_collection: "entries", onDelete: RESTRICT, oneField: "devices" },
  { collection: "entry_devices", field: "device_id", related_collection: "devices", onDelete: RESTRICT },
  // A body-worn panic button belongs to a person: deleting the person clears the assignment.
  { collection: "entry_devices", field: "assigned_user_id", related_collection: "directus_users", onDelete: "SET NULL" },
];

/** Creates the model on an instance that has none of it yet. */
export async function authorSchema(client: SchemaClient, log: (line: string) => void): Promise<void> {
  const existing = new Set((await client.request(readCollections())).map((c) => String(c.collection)));
  const clashes = COLLECTIONS.map((c) => c.collection).filter((name) => existing.has(name));
  if (clashes.length > 0) {
    throw new Error(`schema:author builds the model on an instance without it, but ${clashes.join(", ")} already exist`);
  }
  for (const def of COLLECTIONS) {
    await client.request(createCollection({ collection: def.collection, meta: def.meta, schema: {}, fields: def.fields } as NestedPartial<DirectusCollection<object>>));
    log(`schema:author: collection ${def.collection} (${def.fields.length} fields)`);
  }
  for (const field of USER_FIELDS) {
    await client.request(createField("directus_users", field as never));
  }
  log(`schema:author: directus_users + ${USER_FIELDS.map((f) => f.field).join(", ")}`);
  for (const relation of RELATIONS) {
    await client.request(
      createRelation({
        collection: relation.collection,
        field: relation.field,
        related_collection: relation.related_collection,
        schema: { on_delete: relation.onDelete },
        meta: { one_field: relation.oneField ?? null, one_deselect_action: relation.oneField ? "delete" : "nullify" },
      } as never),
    );
  }
  log(`schema:author: ${RELATIONS.length} relations`);
}

async function main(): Promise<void> {
  const out = outputPath(process.argv.slice(2));
  const log = (line: string) => console.log(line);
  const sqlOwned = await findSqlOwnedTables(MIGRATION_DIRS);

  if (process.env.DIRECTUS_URL) {
    const client = await connectDirectus(readDirectusConnection(process.env));
    await authorSchema(client, log);
    await write(client, out, sqlOwned, log);
    return;
  }

  // No instance given: a throwaway PostgreSQL 16 (with db-init applied, as in production) + Directus.
  prepareMachine();
  const pg = await startPostgres();
  try {
    const db = await pg.createDatabase("author");
    await runMigrations({ dirs: [path.join(REPO_ROOT, "db-init")], db });
    log("schema:author: starting a throwaway Directus 11.17.4 (the first run installs it: minutes)");
    const directus = await startDirectus({ db, log });
    try {
      const client = await connectDirectus({ url: directus.url, email: directus.adminEmail, password: directus.adminPassword });
      await authorSchema(client, log);
      await write(client, out, sqlOwned, log);
    } finally {
      await directus.stop();
    }
  } finally {
    await pg.stop();
  }
}

async function write(client: SchemaClient, out: string, sqlOwned: string[], log: (line: string) => void): Promise<void> {
  const { snapshot, stripped } = await captureSnapshot(client, sqlOwned);
  await writeFile(out, serializeSnapshot(snapshot));
  log(`schema:author: wrote ${path.relative(process.cwd(), out) || out} (${snapshot.collections.length} collections, ${snapshot.fields.length} fields, ${snapshot.relations.length} relations)`);
  if (stripped.collections.length > 0) log(`schema:author: left out SQL-owned ${stripped.collections.join(", ")}`);
}

if (require.main === module) main().catch(reportFailure("schema:author"));
