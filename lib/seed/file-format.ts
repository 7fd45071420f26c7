/** The seed file's public format (seed/*.yaml): its shape and the field rules Directus does not hold. */
import { z } from "zod";

const text = z.string().trim().min(1, "must not be empty");
const slug = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be a lowercase slug (a-z, 0-9, dashes)");
// What makes an email valid is Directus's own check (./directus-rules), on the value the seed sends.
const email = z.string().trim().toLowerCase();
// Allowed values, and whether one is required, come from the schema's choices (./directus-rules).
const choice = z.string().trim();
const isoDate = z.iso.date("must be a date YYYY-MM-DD");
const isoDateTime = z.iso.datetime({ offset: true, message: "must be an ISO 8601 timestamp with a timezone, e.g. 2026-06-06T00:00:00Z" });
export const imei = z
  .string()
  .regex(/^\d{15}$/, "must be 15 digits")
  .refine(hasValidLuhnDigit, "fails its Luhn check digit");
const vehicleRef = text.describe("a vehicle's plate, or its VIN when it has no plate");

const user = z.strictObject({
  email,
  first_name: text,
  last_name: text,
  phone: z.string().regex(/^\+[0-9 ]{7,20}$/, "must be an international number, e.g. +355 69 123 4567").optional(),
  birth_date: isoDate.optional(),
  nationality: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code, e.g. AL").optional(),
});

const vehicle = z
  .strictObject({
    plate: text.optional(),
    vin: z.string().regex(/^[A-HJ-NPR-Z0-9]{17}$/, "must be a 17-character VIN").optional(),
    make: text,
    model: text,
    year: z.int().optional(),
    cc: z.int().optional(),
  })
  .refine((v) => v.plate || v.vin, "needs a plate or a VIN (its natural key)");

const device = z.strictObject({ imei, model: text });

const organization = z.strictObject({
  slug,
  name: text,
  members: z.array(z.strictObject({ user: email, role: choice.nullish() })).default([]),
  vehicles: z.array(z.strictObject({ vehicle: vehicleRef, registered_at: isoDateTime.optional() })).default([]),
  devices: z.array(z.strictObject({ imei, registered_at: isoDateTime.optional() })).default([]),
});

const eventClass = z.strictObject({
  code: z.string().regex(/^[A-Z]+-[A-Z0-9]+$/, "must look like M-1 or C-A"),
  name: text,
  description: text.optional(),
  sort_order: z.int(),
});

const entry = z.strictObject({
  race_number: z.int(),
  class: text.optional(),
  vehicle: vehicleRef.optional(),
  status: choice.default("registered"),
  crew: z.array(z.strictObject({ user: email, role: choice.nullish() })).default([]),
  devices: z.array(z.strictObject({ imei, assigned_user: email.optional() })).default([]),
});

const event = z.strictObject({
  organization: slug,
  slug,
  name: text,
  discipline: choice.nullish(),
  starts_at: isoDateTime,
  ends_at: isoDateTime,
  regulation_doc_url: z.url("must be a URL").optional(),
  notes: text.optional(),
  classes: z.array(eventClass).default([]),
  entries: z.array(entry).default([]),
});

export const seedFileSchema = z.strictObject({
  organizations: z.array(organization).default([]),
  users: z.array(user).default([]),
  vehicles: z.array(vehicle).default([]),
  devices: z.array(device).default([]),
  events: z.array(event).default([]),
});

export type SeedFile = z.infer<typeof seedFileSchema>;

/** Luhn check over all 15 digits (the last one is the check digit), as for every IMEI. */
export function hasValidLuhnDigit(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
