/**
 * Parity of the seed's checks with Directus 11.17.4 (snapshots/schema.yaml applied): each case is a
 * small seed file with one value changed. What the validator accepts, the real seed run writes;
 * what it refuses, Directus refuses too when sent unchecked, unless the case names the deliberate
 * stricter rule. Plus: a refused file writes nothing, and a refusal Directus makes names the item.
 */
import { readFieldsByCollection, readItems, readUsers } from "@directus/sdk";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDirectus, SeedWriteError } from "../lib/seed/apply";
import { SeedValidationError, seedStateUnchecked, toSeedState, validateSeed } from "../lib/seed/data";
import { DIRECTUS_USERS_SYSTEM_FIELDS } from "../lib/seed/directus-rules";
import { runTsScript } from "./support/cli";
import { startDirectusWithSchema, type AdminClient, type DirectusWithSchema } from "../tools/harness/directus";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

let pg: TestPostgres;
let stack: DirectusWithSchema;
let client: AdminClient;

beforeAll(async () => {
  pg = await startPostgres();
  stack = await startDirectusWithSchema(pg);
  client = await stack.client();
}, 15 * 60_000);

afterAll(async () => {
  await stack?.directus.stop();
  await pg?.stop();
});

/** A 15-digit IMEI with a valid Luhn check digit, unique per n. */
function imeiFor(n: number): string {
  const body = `35630704${String(n).padStart(6, "0")}`;
  const sum = [...body].reverse().reduce((acc, ch, i) => {
    const d = Number(ch) * (i % 2 === 0 ? 2 : 1);
    return acc + (d > 9 ? d - 9 : d);
  }, 0);
  return body + String((10 - (sum % 10)) % 10);
}

/** A complete, valid seed file whose natural keys are all unique to n. */
function baseSeed(n: number) {
  const email = `crew${n}@example.com`;
  const plate = `P-${n}`;
  const imei = imeiFor(n);
  return {
    organizations: [
      {
        slug: `org-${n}`,
        name: `Organization ${n}`,
        members: [{ user: email, role: "participant" }],
        vehicles: [{ vehicle: plate, registered_at: "2026-05-01T09:00:00Z" }],
        devices: [{ imei, registered_at: "2026-05-01T09:00:00Z" }],
      },
    ],
    users: [{ email, first_name: "Arben", last_name: "Test", phone: "+355 69 000 0301", birth_date: "1980-03-14", nationality: "AL" }] as Record<string, unknown>[],
    vehicles: [{ plate, make: "Toyota", model: "Land Cruiser 70", year: 1998, cc: 4500 }] as Record<string, unknown>[],
    devices: [{ imei, model: "FMB920" }] as Record<string, unknown>[],
    events: [
      {
        organization: `org-${n}`,
        slug: `event-${n}`,
        name: `Event ${n}`,
        discipline: "rally",
        starts_at: "2026-06-06T00:00:00Z",
        ends_at: "2026-06-13T00:00:00Z",
        classes: [{ code: "M-1", name: "MOTO up to 450cc", sort_order: 1 }] as Record<string, unknown>[],
        entries: [
          {
            race_number: 301,
            class: "M-1",
            vehicle: plate,
            status: "registered",
            crew: [{ user: email, role: "pilot" }] as Record<string, unknown>[],
            devices: [{ imei, assigned_user: email }],
          },
        ] as Record<string, unknown>[],
      },
    ] as Record<string, any>[],
  };
}
type Seed = ReturnType<typeof baseSeed>;

interface Case {
  label: string;
  change: (seed: Seed) => void;
  /** Why we refuse what Directus would take: the deliberate stricter rule. */
  stricter?: string;
}

/** Changes the one user's email everywhere it is referred to. */
function email(value: string): Case["change"] {
  return (seed) => {
    const old = seed.users[0].email as string;
    seed.users[0].email = value;
    seed.organizations[0].members[0].user = value;
    seed.events[0].entries[0].crew[0].user = value;
    seed.events[0].entries[0].devices[0].assigned_user = value;
    expect(JSON.stringify(seed)).not.toContain(old);
  };
}
const user = (field: string, value: unknown): Case["change"] => (seed) => void (seed.users[0][field] = value);
const vehicle = (field: string, value: unknown): Case["change"] => (seed) => void (seed.vehicles[0][field] = value);
const event = (field: string, value: unknown): Case["change"] => (seed) => void (seed.events[0][field] = value);
const entry = (field: string, value: unknown): Case["change"] => (seed) => void (seed.events[0].entries[0][field] = value);
const unset = (record: Record<string, unknown>, field: string) => void delete record[field];

/** Cases that change the one user's email, labelled after "email ". */
const EMAILS: [label: string, value: string][] = [
  ["with a plus-address", "first.last+rally@example.com"],
  ["in upper case (sent lower-cased)", "Upper.Case@Example.COM"],
  ["with leading and trailing spaces (sent trimmed)", "  spaced@example.com  "],
  ["on an IDN domain in punycode", "rider@xn--bcher-kva.ch"],
  ["on an IDN domain in Unicode", "rider@bücher.ch"],
  ["with a Unicode local part", "ëlira@example.al"],
  ["with a 64-character local part", `${"a".repeat(64)}@example.com`],
  ["on a new gTLD (.racing)", "pilot@dakar.racing"],
  ["on .rally (not a top-level domain)", "pilot@dakar.rally"],
  ["on the reserved .test domain", "p1@dakar.test"],
  ["on .example", "p1@dakar.example"],
  ["on .local", "p1@pit.local"],
  ["on an unknown top-level domain", "p1@dakar.notatld"],
  ["without a top-level domain", "p1@localhost"],
  ["with a 65-character local part", `${"a".repeat(65)}@example.com`],
  ["longer than the 128-character column", `${"a".repeat(60)}@${"b".repeat(60)}.${"c".repeat(10)}.com`],
  ["without @", "pilot.example.com"],
  ["with two @", "pilot@@example.com"],
  ["with a space inside", "pi lot@example.com"],
  ["with consecutive dots", "pi..lot@example.com"],
  ["with a domain starting with a dash", "pilot@-example.com"],
];

const CHOICES = "choices: a dropdown's choices are enforced by the seed only (Directus leaves them to the admin UI)";
const CASES: Case[] = [
  { label: "the base file", change: () => undefined },
  // emails, checked the way Directus does (joi's email(), IANA top-level domains)
  ...EMAILS.map(([label, value]): Case => ({ label: `email ${label}`, change: email(value) })),
  {
    label: "two users whose emails differ only in case",
    change: (seed) => void seed.users.push({ email: "CREW0@EXAMPLE.COM", first_name: "B", last_name: "C" }, { email: "crew0@example.com", first_name: "D", last_name: "E" }),
  },
  // directus_users' own columns and ours
  { label: "first_name of 50 characters", change: user("first_name", "F".repeat(50)) },
  { label: "first_name of 51 characters", change: user("first_name", "F".repeat(51)) },
  { label: "last_name of 51 characters", change: user("last_name", "L".repeat(51)) },
  { label: "first_name empty", change: user("first_name", ""), stricter: "names: an empty first or last name is refused" },
  { label: "no nationality (null)", change: (seed) => unset(seed.users[0], "nationality") },
  { label: "nationality in lower case", change: user("nationality", "al") },
  { label: "nationality of three letters", change: user("nationality", "ALB") },
  { label: "birth_date that does not exist", change: user("birth_date", "2026-02-30") },
  { label: "birth_date on a leap day", change: user("birth_date", "2024-02-29") },
  { label: "no birth_date", change: (seed) => unset(seed.users[0], "birth_date") },
  // vehicles
  { label: "year 1900", change: vehicle("year", 1900) },
  { label: "year 1899", change: vehicle("year", 1899) },
  { label: "year beyond integer range", change: vehicle("year", 2 ** 31) },
  { label: "no year and no cc", change: (seed) => (unset(seed.vehicles[0], "year"), unset(seed.vehicles[0], "cc")) },
  { label: "cc 0", change: vehicle("cc", 0) },
  { label: "cc -1", change: vehicle("cc", -1) },
  { label: "make of 255 characters", change: vehicle("make", "M".repeat(255)) },
  { label: "make of 256 characters", change: vehicle("make", "M".repeat(256)) },
  { label: "make with emoji, 255 characters", change: vehicle("make", "🏍".repeat(255)) },
  // devices
  { label: "IMEI with a wrong check digit", change: (seed) => void (seed.devices[0].imei = "356307049000011", seed.organizations[0].devices[0].imei = "356307049000011", seed.events[0].entries[0].devices[0].imei = "356307049000011"), stricter: "IMEI: its Luhn check digit" },
  { label: "device model of 33 characters", change: (seed) => void (seed.devices[0].model = "D".repeat(33)) },
  // organizations
  { label: "organization name of 256 characters", change: (seed) => void (seed.organizations[0].name = "O".repeat(256)) },
  { label: "organization name padded with spaces (sent trimmed)", change: (seed) => void (seed.organizations[0].name = "  Padded  ") },
  { label: "member without a role", change: (seed) => unset(seed.organizations[0].members[0], "role") },
  { label: "member role not among the choices", change: (seed) => void (seed.organizations[0].members[0].role = "boss"), stricter: CHOICES },
  // events, classes, entries
  { label: "discipline not among the choices", change: event("discipline", "ski"), stricter: CHOICES },
  { label: "no discipline", change: (seed) => unset(seed.events[0], "discipline") },
  { label: "event name of 256 characters", change: event("name", "E".repeat(256)) },
  { label: "starts_at without a timezone", change: event("starts_at", "2026-06-06T00:00:00"), stricter: "timestamps: a timezone is required (Directus would read it in the server's zone)" },
  { label: "ends_at before starts_at", change: event("ends_at", "2026-06-01T00:00:00Z"), stricter: "events: ends_at must be after starts_at" },
  { label: "class code of 17 characters", change: (seed) => { seed.events[0].classes[0].code = "M-123456789012345"; seed.events[0].entries[0].class = "M-123456789012345"; } },
  { label: "race_number 0", change: entry("race_number", 0) },
  { label: "race_number 1", change: entry("race_number", 1) },
  { label: "entry status not among the choices", change: entry("status", "flying"), stricter: CHOICES },
  { label: "no entry status (the default, registered)", change: (seed) => unset(seed.events[0].entries[0], "status") },
  { label: "crew member without a role", change: (seed) => unset(seed.events[0].entries[0].crew[0], "role") },
  { label: "crew role not among the choices", change: (seed) => void (seed.events[0].entries[0].crew[0].role = "driver"), stricter: CHOICES },
];

type Verdict = { ours: "accepts" | "refuses"; directus: "accepts" | "refuses"; detail: string };

async function directusTakes(state: ReturnType<typeof toSeedState>): Promise<{ ok: boolean; detail: string }> {
  try {
    await seedDirectus({ client, desired: state });
    return { ok: true, detail: "" };
  } catch (error) {
    return { ok: false, detail: (error as Error).message.split("\n")[0] };
  }
}

async function judge(testCase: Case, n: number): Promise<Verdict> {
  const seed = baseSeed(n);
  testCase.change(seed);
  try {
    const state = toSeedState(validateSeed(structuredClone(seed), `case ${n}`));
    const written = await directusTakes(state);
    return { ours: "accepts", directus: written.ok ? "accepts" : "refuses", detail: written.detail };
  } catch (error) {
    if (!(error instanceof SeedValidationError)) throw error;
    const sent = await directusTakes(seedStateUnchecked(structuredClone(seed)));
    return { ours: "refuses", directus: sent.ok ? "accepts" : "refuses", detail: `${error.problems.join(" | ")} || Directus: ${sent.detail}` };
  }
}

describe("the seed's checks and Directus 11.17.4 agree", () => {
  it(`on ${CASES.length} cases: what we accept Directus writes; what we refuse it refuses, or the case names our stricter rule`, async () => {
    const rows: string[] = [];
    const mismatches: string[] = [];
    for (const [i, testCase] of CASES.entries()) {
      const verdict = await judge(testCase, i);
      const why = testCase.stricter ? ` [stricter: ${testCase.stricter}]` : verdict.ours === "refuses" ? `: ${verdict.detail.split(" | ")[0]}` : "";
      rows.push(`${verdict.ours.padEnd(8)} ${verdict.directus.padEnd(8)} ${testCase.label}${why}`);
      if (verdict.ours === "accepts" && verdict.directus === "refuses") mismatches.push(`we accept, Directus refuses: ${testCase.label}: ${verdict.detail}`);
      if (verdict.ours === "refuses" && verdict.directus === "accepts" && !testCase.stricter) mismatches.push(`we refuse, Directus accepts (not a listed stricter rule): ${testCase.label}: ${verdict.detail}`);
      if (testCase.stricter && !(verdict.ours === "refuses" && verdict.directus === "accepts")) mismatches.push(`listed as stricter but ours ${verdict.ours} and Directus ${verdict.directus}: ${testCase.label}: ${verdict.detail}`);
    }
    console.log(`ours     Directus case\n${rows.join("\n")}`);
    expect(mismatches).toEqual([]);
    expect(rows.filter((r) => r.startsWith("accepts")).length).toBeGreaterThan(20);
    expect(rows.filter((r) => r.startsWith("refuses")).length).toBeGreaterThan(25);
  }, 10 * 60_000);

  it("knows directus_users' own columns as the live Directus has them", async () => {
    const live = await client.request(readFieldsByCollection("directus_users"));
    for (const rule of DIRECTUS_USERS_SYSTEM_FIELDS) {
      const column = live.find((f) => f.field === rule.field)?.schema;
      expect({ field: rule.field, dataType: column?.data_type, maxLength: column?.max_length, unique: column?.is_unique }).toEqual({
        field: rule.field,
        dataType: rule.dataType,
        maxLength: rule.maxLength,
        unique: rule.unique,
      });
    }
  });
});

describe("a seed Directus would refuse", () => {
  it("with .test emails is refused before any write, naming each user", async () => {
    const seed = baseSeed(900);
    seed.organizations[0].members = [];
    seed.events[0].entries[0].crew = [];
    seed.events[0].entries[0].devices = [];
    seed.users = ["p1@dakar.test", "p2@dakar.test", "ok@dakar.al"].map((e, i) => ({ email: e, first_name: `Rider ${i}`, last_name: "Dakar" }));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "trm-parity-")), "dakar.yaml");
    writeFileSync(file, JSON.stringify(seed));
    const before = await client.request(readUsers({ fields: ["id"], limit: -1 }));

    const run = await runTsScript("scripts/seed.ts", [file], {
      DIRECTUS_URL: stack.directus.url,
      DIRECTUS_ADMIN_EMAIL: stack.directus.adminEmail,
      DIRECTUS_ADMIN_PASSWORD: stack.directus.adminPassword,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: 2 problems in the seed data, nothing was written`);
    expect(run.stderr).toContain("users[p1@dakar.test].email (directus_users.email): is not an email address Directus accepts");
    expect(run.stderr).toContain("users[p2@dakar.test].email (directus_users.email): is not an email address Directus accepts");
    expect(await client.request(readUsers({ fields: ["id"], limit: -1 }))).toHaveLength(before.length);
    expect(await client.request(readItems("organizations", { filter: { slug: { _eq: "org-900" } } }))).toEqual([]);
  });

  it("names collection, item and field when Directus itself refuses, says what was written, and the next run converges", async () => {
    const seed = baseSeed(901);
    const good = toSeedState(validateSeed(structuredClone(seed), "good"));
    const unchecked = seedStateUnchecked({ ...structuredClone(seed), events: [{ ...seed.events[0], name: "E".repeat(300) }] });

    const refusal = await seedDirectus({ client, desired: unchecked }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SeedWriteError);
    const error = refusal as SeedWriteError;
    expect(error.collection).toBe("events");
    expect(error.keys).toEqual(["org-901/event-901"]);
    expect(error.message).toMatch(/^Directus refused to create item of events \("org-901\/event-901"\)/);
    expect(error.message).toContain("nothing of this request was written");
    expect(error.written).toEqual(
      expect.arrayContaining(["organizations: 1 created", "directus_users: 1 created", "vehicles: 1 created", "devices: 1 created"]),
    );
    expect(error.written.join(" ")).not.toMatch(/events|classes|entries/);

    const next = await seedDirectus({ client, desired: good });
    expect(next.counts.creates).toBe(Object.values(good).reduce((n, items) => n + Object.keys(items).length, 0) - 4 - 3);
    const again = await seedDirectus({ client, desired: good });
    expect(again.writeRequests).toBe(0);
  });
});
