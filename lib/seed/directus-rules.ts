/**
 * What Directus 11.17.4 checks when the seed writes an item, read from snapshots/schema.yaml, so a
 * seed file it would refuse is refused here, before anything is written. The checks are Directus's
 * own where it has them: its field validation rules through `@directus/utils`' `validatePayload`,
 * its NOT NULL rule (a non-nullable field without a default must be sent, and not as null), and its
 * email check (`Joi.string().email()`, joi 18.0.1 as in @directus/api). What PostgreSQL refuses
 * follows the column: its length, integer range, a real date, uniqueness. One rule is ours alone:
 * a field with dropdown choices takes only those (Directus leaves that to the admin UI).
 * test/seed-parity.test.ts proves all of it against a real Directus.
 */
import { generateJoi, injectFunctionResults } from "@directus/utils";
import Joi from "joi";
import { readSchemaModel, SCHEMA_SNAPSHOT } from "../schema/model";
import { COLLECTIONS, type CollectionName, type ItemValues, type Scalar, type SeedState } from "./model";

export { SCHEMA_SNAPSHOT };

export interface FieldRule {
  collection: string;
  field: string;
  /** The PostgreSQL column type, e.g. `character varying`, `integer`, `date`. */
  dataType: string;
  /** Must be sent, and not as null: NOT NULL without a default (Directus's `_submitted` + `_nnull`). */
  required: boolean;
  maxLength: number | null;
  unique: boolean;
  validation: Record<string, unknown> | null;
  validationMessage: string | null;
  /** Dropdown choices: enforced by this check only (a deliberately stricter rule). */
  choices: Scalar[] | null;
}

export type SchemaRules = Map<string, Map<string, FieldRule>>;

/**
 * directus_users columns the seed writes that Directus creates itself, so they are not in the
 * snapshot. test/seed-parity.test.ts compares them with a live Directus 11.17.4.
 */
export const DIRECTUS_USERS_SYSTEM_FIELDS: readonly FieldRule[] = [
  systemString("email", 128, true),
  systemString("first_name", 50, false),
  systemString("last_name", 50, false),
];

function systemString(field: string, maxLength: number, unique: boolean): FieldRule {
  const rule = { collection: "directus_users", field, dataType: "character varying", required: false, maxLength, unique };
  return { ...rule, validation: null, validationMessage: null, choices: null };
}

/** Directus fills these itself, so a non-nullable one of them is never "required" (its isFieldNullable). */
const GENERATED_SPECIALS = ["uuid", "user-created", "role-created", "date-created"];

interface SnapshotField {
  collection: string;
  field: string;
  meta?: { special?: string[] | null; validation?: Record<string, unknown> | null; validation_message?: string | null; options?: { choices?: { value: Scalar }[] } | null } | null;
  schema?: { data_type: string; is_nullable: boolean; default_value: unknown; max_length: number | null; is_unique: boolean; is_generated?: boolean } | null;
}

export function readSchemaRules(snapshotFile = SCHEMA_SNAPSHOT): SchemaRules {
  const { fields } = readSchemaModel(snapshotFile).snapshot as { fields: SnapshotField[] };
  const rules: SchemaRules = new Map();
  const add = (rule: FieldRule) => {
    if (!rules.has(rule.collection)) rules.set(rule.collection, new Map());
    rules.get(rule.collection)!.set(rule.field, rule);
  };
  DIRECTUS_USERS_SYSTEM_FIELDS.forEach(add);
  for (const f of fields) if (f.schema) add(toFieldRule(f, f.schema));
  return rules;
}

function toFieldRule(f: SnapshotField, schema: NonNullable<SnapshotField["schema"]>): FieldRule {
  const generated = schema.is_generated === true || (f.meta?.special ?? []).some((s) => GENERATED_SPECIALS.includes(s));
  return {
    collection: f.collection,
    field: f.field,
    dataType: schema.data_type,
    required: !schema.is_nullable && schema.default_value === null && !generated,
    maxLength: schema.max_length,
    unique: schema.is_unique,
    validation: f.meta?.validation ?? null,
    validationMessage: f.meta?.validation_message ?? null,
    choices: f.meta?.options?.choices?.map((c) => c.value) ?? null,
  };
}

export interface RuleProblem {
  collection: CollectionName;
  /** The item's values (refs as natural keys), or null for a problem of the schema itself. */
  values: ItemValues | null;
  field: string;
  message: string;
  /** For a duplicate: the item that has the value first. */
  duplicateOf?: ItemValues;
}

/** Every field the seed writes, of every item, checked as Directus would on create or update. */
export function directusRuleProblems(state: SeedState, rules: SchemaRules): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const spec of COLLECTIONS) {
    for (const field of Object.keys(spec.fields)) {
      const rule = rules.get(spec.name)?.get(field);
      if (!rule) {
        problems.push({ collection: spec.name, values: null, field, message: `the schema has no field ${spec.name}.${field}: update lib/seed/model.ts or the snapshot` });
        continue;
      }
      const items = Object.entries(state[spec.name]);
      for (const [, values] of items) {
        for (const message of fieldProblems(rule, values[field])) problems.push({ collection: spec.name, values, field, message });
      }
      if (rule.unique) problems.push(...duplicateProblems(spec.name, rule, items));
    }
    problems.push(...unsetRequiredFields(spec, rules));
  }
  return problems;
}

/** A field the schema requires (NOT NULL, no default) that the seed never sets: Directus would refuse every item. */
function unsetRequiredFields(spec: (typeof COLLECTIONS)[number], rules: SchemaRules): RuleProblem[] {
  const seeded = new Set([...Object.keys(spec.fields), ...Object.keys(spec.refs)]);
  return [...(rules.get(spec.name)?.values() ?? [])]
    .filter((rule) => rule.required && !seeded.has(rule.field))
    .map((rule) => ({
      collection: spec.name,
      values: null,
      field: rule.field,
      message: `snapshots/schema.yaml requires ${spec.name}.${rule.field} (NOT NULL, no default), but the seed does not set it: give it a default in the admin UI and capture again, or add it to the seed (lib/seed/model.ts, lib/seed/data.ts)`,
    }));
}

export function fieldProblems(rule: FieldRule, value: Scalar | undefined): string[] {
  if (value === null || value === undefined) {
    if (rule.required) return [rule.choices ? `is required (one of ${rule.choices.join(", ")})` : "is required"];
    return validationProblems(rule, null);
  }
  const problems = columnProblems(rule, value);
  if (rule.collection === "directus_users" && rule.field === "email") problems.push(...emailProblems(String(value)));
  if (rule.choices && !rule.choices.includes(value)) problems.push(`must be one of ${rule.choices.join(", ")}`);
  return problems.length > 0 ? problems : validationProblems(rule, value);
}

const INTEGER_RANGE: Record<string, [number, number]> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
  bigint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** What PostgreSQL would refuse for the column. */
function columnProblems(rule: FieldRule, value: Scalar): string[] {
  const range = INTEGER_RANGE[rule.dataType];
  if (range) {
    if (typeof value !== "number" || !Number.isInteger(value)) return ["must be a whole number"];
    return value < range[0] || value > range[1] ? [`is out of range for ${rule.dataType} (${range[0]} to ${range[1]})`] : [];
  }
  if (typeof value !== "string") return [`must be text (the column is ${rule.dataType})`];
  if (rule.dataType === "date" && !isCalendarDate(value)) return ["must be a real date YYYY-MM-DD"];
  if (rule.dataType.startsWith("timestamp") && Number.isNaN(Date.parse(value))) return ["must be an ISO 8601 timestamp"];
  const length = [...value].length;
  if (rule.maxLength !== null && length > rule.maxLength) return [`is ${length} characters long; ${rule.collection}.${rule.field} holds at most ${rule.maxLength}`];
  return [];
}

function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const directusEmail = Joi.string().email().required();

function emailProblems(value: string): string[] {
  if (!directusEmail.validate(value).error) return [];
  return ["is not an email address Directus accepts (it also checks the top-level domain against IANA's list: .test, .local, .example and unknown ones are refused)"];
}

/** The field's validation rule, exactly as Directus evaluates it. */
function validationProblems(rule: FieldRule, value: Scalar): string[] {
  if (!rule.validation) return [];
  const errors = compiledValidation(rule)({ [rule.field]: value });
  if (errors.length === 0) return [];
  const reason = errors.flatMap((e) => e.details.map((d) => d.message)).join("; ");
  return [`fails its validation rule: ${rule.validationMessage ?? reason}`];
}

type Filter = Record<string, unknown>;
type PayloadCheck = (payload: Record<string, unknown>) => Joi.ValidationError[];
const compiledRules = new WeakMap<FieldRule, PayloadCheck>();

function compiledValidation(rule: FieldRule): PayloadCheck {
  let check = compiledRules.get(rule);
  if (!check) compiledRules.set(rule, (check = compileFilter(rule.validation!)));
  return check;
}

/**
 * `@directus/utils`' validatePayload, with each leaf's Joi schema built once instead of per value
 * (building it is most of the cost: 80,000 values for a 10,000-entry seed). Same walk: `_and`
 * collects every branch's errors, `_or` passes when one branch does and else reports them all.
 */
function compileFilter(filter: Filter): PayloadCheck {
  const [operator] = Object.keys(filter);
  if (operator === "_and" || operator === "_or") {
    const branches = (filter[operator] as Filter[]).map(compileFilter);
    if (operator === "_and") return (payload) => branches.flatMap((branch) => branch(payload));
    return (payload) => {
      const swallowed: Joi.ValidationError[] = [];
      for (const branch of branches) {
        const errors = branch(payload);
        if (errors.length === 0) return [];
        swallowed.push(...errors);
      }
      return swallowed;
    };
  }
  const schema = generateJoi(filter as never);
  return (payload) => {
    const { error } = schema.validate(injectFunctionResults(payload, filter as never), { abortEarly: false });
    return error ? [error] : [];
  };
}

function duplicateProblems(collection: CollectionName, rule: FieldRule, items: [string, ItemValues][]): RuleProblem[] {
  const seen = new Map<string, ItemValues>();
  const problems: RuleProblem[] = [];
  for (const [, values] of items) {
    const value = values[rule.field];
    if (value === null || value === undefined) continue;
    // Directus compares emails case-insensitively.
    const normalized = rule.field === "email" ? String(value).toLowerCase() : String(value);
    const first = seen.get(normalized);
    if (first !== undefined) problems.push({ collection, values, field: rule.field, message: `"${value}" must be unique`, duplicateOf: first });
    else seen.set(normalized, values);
  }
  return problems;
}
