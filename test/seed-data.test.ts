import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { hasValidLuhnDigit, parseSeedYaml, SeedValidationError, toSeedState, validateSeed } from "../lib/seed/data";
import { REPO_ROOT } from "./support/cli";

const SEED_FILE = "seed/rally-albania-2026.yaml";
const seedText = readFileSync(path.join(REPO_ROOT, SEED_FILE), "utf8");

function problemsOf(mutate: (raw: any) => void): string[] {
  const raw = parse(seedText);
  mutate(raw);
  try {
    validateSeed(raw, SEED_FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(SeedValidationError);
    return (error as SeedValidationError).problems;
  }
  throw new Error("expected the seed data to be refused");
}

describe("Rally Albania 2026 seed data", () => {
  const state = toSeedState(parseSeedYaml(seedText, SEED_FILE));

  it("holds the organization, the event and the 18 classes of spec §6 in sort order", () => {
    expect(state.organizations["msc-albania"]).toEqual({ slug: "msc-albania", name: "Motorsport Club Albania" });
    expect(state.events["msc-albania/rally-albania-2026"]).toMatchObject({
      name: "Rally Albania 2026",
      discipline: "rally",
      starts_at: "2026-06-06T00:00:00Z",
      ends_at: "2026-06-13T23:59:59Z",
      regulation_doc_url: "https://www.rallyalbania.org",
    });
    const classes = Object.values(state.classes).sort((a, b) => Number(a.sort_order) - Number(b.sort_order));
    expect(classes.map((c) => c.code)).toEqual([
      "M-1", "M-2", "M-3", "M-4", "M-5", "M-6", "M-7", "M-8", "Q-1", "Q-2", "Q-3",
      "C-1", "C-2", "C-A", "C-3", "S-1", "S-2", "S-3",
    ]);
    expect(classes.map((c) => c.sort_order)).toEqual(Array.from({ length: 18 }, (_, i) => (i + 1) * 10));
  });

  it("marks every car and SSV class name as pending confirmation instead of inventing one", () => {
    const pending = Object.values(state.classes).filter((c) => /^[CS]-/.test(String(c.code)));
    expect(pending).toHaveLength(7);
    for (const c of pending) expect(c.name).toMatch(/pending confirmation/);
  });

  it("has the dogfood entry 301 with its vehicle, crew, three devices and every junction", () => {
    const entry = "msc-albania/rally-albania-2026/#301";
    expect(state.entries[entry]).toEqual({
      event_id: "msc-albania/rally-albania-2026",
      race_number: 301,
      status: "registered",
      class_id: "msc-albania/rally-albania-2026/C-2",
      vehicle_id: "plate:AA-001-AA",
    });
    expect(state.vehicles["plate:AA-001-AA"]).toMatchObject({ make: "Toyota", model: "Land Cruiser 70", year: 1998, cc: 4500 });
    expect(Object.values(state.entry_crew).map((c) => c.role).sort()).toEqual(["co-pilot", "pilot"]);
    const devices = Object.values(state.entry_devices);
    expect(devices).toHaveLength(3);
    const models = Object.fromEntries(Object.values(state.devices).map((d) => [d.imei, d.model]));
    expect(devices.map((d) => models[String(d.device_id)]).sort()).toEqual(["FMB003", "FMB920", "FMB920"]);
    const panic = devices.find((d) => models[String(d.device_id)] === "FMB003")!;
    expect(panic.assigned_user_id).toBe("dogfood.pilot@trm.dev");
    expect(Object.keys(state.organization_vehicles)).toEqual(["msc-albania/plate:AA-001-AA"]);
    expect(Object.keys(state.organization_devices)).toHaveLength(3);
    expect(Object.keys(state.organization_users)).toHaveLength(2);
  });
});

describe("seed validation", () => {
  it.each([
    ["356307049000010", true],
    ["356307049000011", false],
    ["490154203237518", true],
  ])("Luhn check of %s is %s", (digits, valid) => {
    expect(hasValidLuhnDigit(digits)).toBe(valid);
  });

  it("lists every problem at once, naming the file, the item and the field", () => {
    const problems = problemsOf((raw) => {
      const event = raw.events[0];
      event.entries[0].class = "C-9"; // unknown class code
      event.entries.push({ race_number: 301, class: "C-2" }); // duplicate race number
      raw.devices[0].imei = "35630704900001"; // 14 digits
      raw.devices[1].imei = "356307049000029"; // bad check digit
      event.entries[0].crew.push({ user: "ghost@trm.dev", role: "navigator" }); // user not defined
      event.entries[0].vehicle = "ZZ-999-ZZ"; // dangling natural key
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "devices[35630704900001].imei: must be 15 digits",
        "devices[356307049000029].imei: fails its Luhn check digit",
        'events[rally-albania-2026].entries[#301].class: "C-9" is not defined under events[rally-albania-2026].classes',
        'events[rally-albania-2026].entries (race_number): "301" appears more than once',
        'events[rally-albania-2026].entries[#301].crew[2].user: "ghost@trm.dev" is not defined under users',
        'events[rally-albania-2026].entries[#301].vehicle: "ZZ-999-ZZ" is not defined under vehicles',
        'events[rally-albania-2026].entries[#301].devices[0].imei: "356307049000010" is not defined under devices',
      ]),
    );
  });

  it("names an undefined organization", () => {
    expect(problemsOf((raw) => (raw.events[0].organization = "nobody"))).toEqual([
      'events[rally-albania-2026].organization: "nobody" is not defined under organizations',
    ]);
  });

  it("names the file in the error message and refuses unknown fields", () => {
    const raw = parse(seedText);
    raw.vehicles[0].colour = "white";
    expect(() => validateSeed(raw, SEED_FILE)).toThrow(
      /^seed\/rally-albania-2026\.yaml: 1 problem in the seed data, nothing was written:\n- vehicles\[AA-001-AA\]: Unrecognized key: "colour"/,
    );
  });

  it("requires a device worn by a person to be assigned to a member of that entry's crew", () => {
    const problems = problemsOf((raw) => {
      raw.users.push({ email: "other@trm.dev", first_name: "O", last_name: "Ther" });
      raw.events[0].entries[0].devices[2].assigned_user = "other@trm.dev";
    });
    expect(problems).toEqual([
      'events[rally-albania-2026].entries[#301].devices[2].assigned_user: "other@trm.dev" is not defined under events[rally-albania-2026].entries[#301].crew',
    ]);
  });

  it("requires a role for every crew member (entry_crew.role is NOT NULL)", () => {
    const noRole = seedText.replace("{ user: dogfood.copilot@trm.dev, role: co-pilot }", "{ user: dogfood.copilot@trm.dev }");
    expect(noRole).not.toBe(seedText);
    expect(() => parseSeedYaml(noRole, SEED_FILE)).toThrow(
      "seed/rally-albania-2026.yaml: 1 problem in the seed data, nothing was written:\n" +
        "- events[rally-albania-2026].entries[#301].crew[dogfood.copilot@trm.dev].role (entry_crew.role): is required (one of pilot, co-pilot, navigator, mechanic, rider, runner, hiker)",
    );
    const problems = problemsOf((raw) => {
      const crew = raw.events[0].entries[0].crew;
      crew[0].role = null; // `role:` left empty
      crew[1].role = "driver";
    });
    expect(problems).toEqual([
      "events[rally-albania-2026].entries[#301].crew[dogfood.pilot@trm.dev].role (entry_crew.role): is required (one of pilot, co-pilot, navigator, mechanic, rider, runner, hiker)",
      "events[rally-albania-2026].entries[#301].crew[dogfood.copilot@trm.dev].role (entry_crew.role): must be one of pilot, co-pilot, navigator, mechanic, rider, runner, hiker",
    ]);
  });

  it("checks fields by the schema's rules as Directus would, listed with shape problems, each naming its column", () => {
    const problems = problemsOf((raw) => {
      raw.vehicles[0].colour = "white"; // a shape problem
      raw.users[0].email = "p1@dakar.test"; // Directus refuses the TLD
      for (const ref of [raw.organizations[0].members[0], raw.events[0].entries[0].crew[0]]) ref.user = "p1@dakar.test";
      raw.events[0].entries[0].devices[2].assigned_user = "p1@dakar.test";
      raw.users[1].first_name = "E".repeat(51); // directus_users.first_name is varchar(50)
      raw.events[0].classes[0].code = "M-123456789012345"; // classes.code is varchar(16)
      raw.events[0].discipline = "ski"; // not among the schema's choices
      raw.vehicles[0].year = 1899; // the field's validation rule
    });
    expect(problems).toEqual([
      'vehicles[AA-001-AA]: Unrecognized key: "colour"',
      "users[p1@dakar.test].email (directus_users.email): is not an email address Directus accepts (it also checks the top-level domain against IANA's list: .test, .local, .example and unknown ones are refused)",
      "users[dogfood.copilot@trm.dev].first_name (directus_users.first_name): is 51 characters long; directus_users.first_name holds at most 50",
      "vehicles[AA-001-AA].year (vehicles.year): fails its validation rule: at least 1900",
      "events[rally-albania-2026].discipline (events.discipline): must be one of rally, time-trial, regatta, trail-run, hike",
      "events[rally-albania-2026].classes[M-123456789012345].code (classes.code): is 17 characters long; classes.code holds at most 16",
    ]);
  });

  it("reports YAML syntax errors with the file name", () => {
    expect(() => parseSeedYaml("events: [", SEED_FILE)).toThrow(/^seed\/rally-albania-2026\.yaml: .*not valid YAML/s);
  });
});
