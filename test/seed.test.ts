/**
 * The seed engine and the DirectusSeed provider against the real runtime: Directus 11.17.4 on
 * PostgreSQL 16 with snapshots/schema.yaml applied. One Directus for the file; tests build on each other.
 */
import { createItem, readItems, readUsers, updateMe } from "@directus/sdk";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/directus-client";
import { seedDirectus, type SeedClient } from "../lib/seed/apply";
import { parseSeedYaml, toSeedState } from "../lib/seed/data";
import { COLLECTION_NAMES, emptyState as emptyOf, type SeedState } from "../lib/seed/model";
import { changedCollections, packKeys, seedRecord, writeItemsFile } from "../lib/seed/record";
import { directusSeedProvider } from "../components/seed";
import { freePort } from "../lib/free-port";
import { REPO_ROOT, runTsScript } from "./support/cli";
import { checkReady, NotReadyError } from "../scripts/lib/ready";
import { startDirectusWithSchema, type DirectusWithSchema } from "../tools/harness/directus";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

const SEED_FILE = path.join(REPO_ROOT, "seed/rally-albania-2026.yaml");
const desired = toSeedState(parseSeedYaml(readFileSync(SEED_FILE, "utf8"), "seed/rally-albania-2026.yaml"));
const EVENT = "msc-albania/rally-albania-2026";

let pg: TestPostgres;
let stack: DirectusWithSchema;
const writes: string[] = [];

/** A client whose every non-GET request is counted: the proof of "0 writes", not the engine's word. */
async function countingClient(): Promise<SeedClient> {
  const counting: typeof fetch = async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const url = String(input instanceof Request ? input.url : input);
    if (method !== "GET" && !url.includes("/auth/")) writes.push(`${method} ${new URL(url).pathname}`);
    return fetch(input, init);
  };
  return connectDirectus(stack.directus.url, { email: stack.directus.adminEmail, password: stack.directus.adminPassword }, counting);
}

async function seed(want: SeedState, previous?: SeedState) {
  writes.length = 0;
  const result = await seedDirectus({ client: await countingClient(), desired: want, previous });
  return { ...result, writes: [...writes] };
}

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of COLLECTION_NAMES) {
    const rows = await pg.query<{ n: number }>(stack.db, `SELECT count(*)::int AS n FROM "${name}"`);
    counts[name] = rows[0].n;
  }
  return counts;
}

const clone = (s: SeedState): SeedState => structuredClone(s);
const ADMIN_USERS = 1;

beforeAll(async () => {
  pg = await startPostgres();
  stack = await startDirectusWithSchema(pg);
}, 15 * 60_000);

afterAll(async () => {
  await stack?.directus.stop();
  await pg?.stop();
});

describe("seeding Rally Albania 2026 into Directus 11.17.4", () => {
  it("creates exactly the expected rows, one write request per collection", async () => {
    const result = await seed(desired);
    expect(await rowCounts()).toEqual({
      organizations: 1,
      directus_users: 2 + ADMIN_USERS,
      vehicles: 1,
      devices: 3,
      organization_users: 2,
      organization_vehicles: 1,
      organization_devices: 3,
      events: 1,
      classes: 18,
      entries: 1,
      entry_crew: 2,
      entry_devices: 3,
    });
    expect(result.writes).toHaveLength(12);
    expect(new Set(result.writes).size).toBe(12);
  });

  it("links every junction to the right items", async () => {
    const rows = await pg.query<Record<string, string>>(
      stack.db,
      `SELECT e.race_number, c.code, v.plate, ev.slug AS event, o.slug AS org,
              (SELECT string_agg(u.email || ':' || ec.role, ',' ORDER BY ec.role) FROM entry_crew ec JOIN directus_users u ON u.id = ec.user_id WHERE ec.entry_id = e.id) AS crew,
              (SELECT string_agg(d.model || ':' || coalesce(u.email, '-'), ',' ORDER BY d.model, u.email) FROM entry_devices ed JOIN devices d ON d.id = ed.device_id
                 LEFT JOIN directus_users u ON u.id = ed.assigned_user_id WHERE ed.entry_id = e.id) AS devices
       FROM entries e JOIN classes c ON c.id = e.class_id JOIN vehicles v ON v.id = e.vehicle_id
       JOIN events ev ON ev.id = e.event_id JOIN organizations o ON o.id = ev.organization_id`,
    );
    expect(rows).toEqual([
      {
        race_number: 301,
        code: "C-2",
        plate: "AA-001-AA",
        event: "rally-albania-2026",
        org: "msc-albania",
        crew: "dogfood.copilot@trm.dev:co-pilot,dogfood.pilot@trm.dev:pilot",
        devices: "FMB003:dogfood.pilot@trm.dev,FMB920:-,FMB920:-",
      },
    ]);
    const junctions = await pg.query<{ n: number }>(
      stack.db,
      `SELECT (SELECT count(*) FROM organization_devices od JOIN organizations o ON o.id = od.organization_id WHERE o.slug = 'msc-albania')::int
            + (SELECT count(*) FROM organization_vehicles ov JOIN vehicles v ON v.id = ov.vehicle_id WHERE v.plate = 'AA-001-AA')::int AS n`,
    );
    expect(junctions[0].n).toBe(4);
  });

  it("makes 0 write requests when run again with unchanged data", async () => {
    const result = await seed(desired, desired);
    expect(result.writes).toEqual([]);
    expect(result.counts).toEqual({ creates: 0, updates: 0, deletes: 0, kept: 0 });
  });

  it("updates exactly one item when one class is renamed", async () => {
    const renamed = clone(desired);
    renamed.classes[`${EVENT}/M-1`].name = "MOTO up to 450cc";
    const result = await seed(renamed, desired);
    expect(result.writes).toEqual(["PATCH /items/classes"]);
    expect(result.counts).toMatchObject({ updates: 1, creates: 0, deletes: 0 });
    const rows = await pg.query(stack.db, "SELECT name FROM classes WHERE code = 'M-1'");
    expect(rows).toEqual([{ name: "MOTO up to 450cc" }]);
    await seed(desired, renamed);
  });

  it("never touches an item created by hand, even when the seed deletes around it", async () => {
    const client = await countingClient();
    const [event] = (await client.request(readItems("events", { fields: ["id"] }))) as { id: string }[];
    await client.request(createItem("classes", { event_id: event.id, code: "X-1", name: "Hand made", sort_order: 999 }));
    const withoutSsv = clone(desired);
    delete withoutSsv.classes[`${EVENT}/S-3`];
    const result = await seed(withoutSsv, desired);
    expect(result.counts).toMatchObject({ deletes: 1, updates: 0, creates: 0 });
    const codes = (await pg.query<{ code: string }>(stack.db, "SELECT code FROM classes ORDER BY sort_order")).map((r) => r.code);
    expect(codes).toContain("X-1");
    expect(codes).not.toContain("S-3");
    await seed(desired, withoutSsv);
  });

  it("deletes a removed entry with its crew and device links; vehicles and devices still referenced stay", async () => {
    const noEntry = clone(desired);
    for (const c of ["entries", "entry_crew", "entry_devices"] as const) noEntry[c] = {};
    const result = await seed(noEntry, desired);
    // crew and device links side by side (one dependency level), the entry after them
    expect(result.writes.slice(0, 2).sort()).toEqual(["DELETE /items/entry_crew", "DELETE /items/entry_devices"]);
    expect(result.writes[2]).toBe("DELETE /items/entries");
    const counts = await rowCounts();
    expect(counts).toMatchObject({ entries: 0, entry_crew: 0, entry_devices: 0, vehicles: 1, devices: 3, organization_devices: 3 });
    await seed(desired, noEntry);
    expect((await rowCounts()).entry_devices).toBe(3);
  });

  it("keeps a class the seed no longer wants while a hand-made entry uses it", async () => {
    const client = await countingClient();
    const [event] = (await client.request(readItems("events", { fields: ["id"] }))) as { id: string }[];
    const [m1] = (await client.request(readItems("classes", { filter: { code: { _eq: "M-1" } }, fields: ["id"] }))) as { id: string }[];
    await client.request(createItem("entries", { event_id: event.id, class_id: m1.id, race_number: 7, status: "registered" }));
    const noM1 = clone(desired);
    delete noM1.classes[`${EVENT}/M-1`];
    const result = await seed(noM1, desired);
    expect(result.writes).toEqual([]);
    expect(result.counts).toMatchObject({ deletes: 0, kept: 1 });
    expect(await pg.query(stack.db, "SELECT race_number FROM entries ORDER BY race_number")).toEqual([{ race_number: 7 }, { race_number: 301 }]);
  });

  it("refuses invalid data with one error listing every problem, and writes nothing", async () => {
    const before = await rowCounts();
    const dir = await mkdtemp(path.join(os.tmpdir(), "trm-seed-"));
    const bad = readFileSync(SEED_FILE, "utf8")
      .replace("class: C-2", "class: C-9")
      .replace('{ imei: "356307049000028", model: FMB920 }', '{ imei: "356307049000029", model: FMB920 }')
      .replace("{ user: dogfood.copilot@trm.dev, role: co-pilot }", "{ user: ghost@trm.dev, role: co-pilot }");
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, bad);
    const run = await runTsScript("scripts/seed.ts", [file], {
      DIRECTUS_URL: stack.directus.url,
      DIRECTUS_ADMIN_EMAIL: stack.directus.adminEmail,
      DIRECTUS_ADMIN_PASSWORD: stack.directus.adminPassword,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: `);
    expect(run.stderr).toContain("devices[356307049000029].imei: fails its Luhn check digit");
    expect(run.stderr).toContain('entries[#301].class: "C-9" is not defined');
    expect(run.stderr).toContain('entries[#301].crew[1].user: "ghost@trm.dev" is not defined under users');
    expect(run.stderr).toContain('entries[#301].devices[1].imei: "356307049000028" is not defined under devices');
    expect(await rowCounts()).toEqual(before);
  });

  it("completes with no duplicates after Directus restarted in the middle of a seed", async () => {
    const big = clone(desired);
    for (let n = 1; n <= 40; n++) {
      const email = `rider${n}@trm.dev`;
      big.directus_users[email] = { email, first_name: "Rider", last_name: String(n), phone: null, birth_date: null, nationality: "AL" };
      big.entries[`${EVENT}/#${n + 10}`] = { event_id: EVENT, race_number: n + 10, status: "registered", class_id: `${EVENT}/M-2`, vehicle_id: null };
      big.entry_crew[`${EVENT}/#${n + 10}/${email}`] = { entry_id: `${EVENT}/#${n + 10}`, user_id: email, role: "rider" };
    }
    let sent = 0;
    const dying: typeof fetch = async (input, init) => {
      if ((init?.method ?? "GET") !== "GET" && ++sent === 2) {
        await stack.directus.stop(); // Directus goes away after the users were created
      }
      return fetch(input, init);
    };
    const client = await connectDirectus(stack.directus.url, { email: stack.directus.adminEmail, password: stack.directus.adminPassword }, dying);
    await expect(seedDirectus({ client, desired: big, previous: desired })).rejects.toThrow();
    await stack.directus.restart();
    const rerun = await seed(big, desired);
    expect(rerun.counts.creates).toBeGreaterThan(0);
    const again = await seed(big, big);
    expect(again.writes).toEqual([]);
    const dupes = await pg.query(stack.db, "SELECT race_number FROM entries GROUP BY event_id, race_number HAVING count(*) > 1");
    expect(dupes).toEqual([]);
    expect((await rowCounts()).entry_crew).toBe(2 + 40);
    await seed(desired, big);
    expect((await rowCounts()).entries).toBe(2); // 301 and the hand-made #7
  });

  // ts-node: the language host; its output cached: the npm scripts that drive Pulumi; tsx: the benches and CLIs.
  it.each([
    ["ts-node", ["-r", "ts-node/register/transpile-only"]],
    ["scripts/register-ts.cjs", ["-r", "./scripts/register-ts.cjs"]],
    ["tsx", ["--import", "tsx"]],
  ])("survives Pulumi's closure serialization of a program loaded by %s: the provider runs under plain Node against this Directus", async (_loader, loaderArgs) => {
    const client = await countingClient();
    const token = `seed-check-${Date.now()}-token`;
    await client.request(updateMe({ token }));
    const smallFile = path.join(await mkdtemp(path.join(os.tmpdir(), "trm-seed-items-")), "small.yaml");
    // without M-1, which the hand-made entry still references: the delete must keep it
    const m1 = "      - { code: M-1, name: MOTO Under 450cc, sort_order: 10 }\n";
    expect(readFileSync(SEED_FILE, "utf8")).toContain(m1);
    writeFileSync(smallFile, readFileSync(SEED_FILE, "utf8").replace(m1, ""));
    // async: a blocked event loop would keep the client's idle socket after Directus closed it
    const { stdout: output } = await promisify(execFile)(
      process.execPath,
      [...loaderArgs, "scripts/check-seed-provider-serialization.ts", stack.directus.url, token, smallFile],
      { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
    );
    const report = JSON.parse(output.trim().split("\n").pop()!);
    expect(report.methods).toEqual(["check", "create", "delete", "diff", "read", "update"]);
    expect(report.check.failures).toEqual([]);
    expect(report.diffSame.changes).toBe(false);
    expect(report.diffRenamed.changes).toBe(true);
    expect(report.create.classes).toBe(17);
    expect(report.read).toEqual(report.create);
    expect(report.update).toEqual(report.create);
    expect(report.stateBytes).toBeLessThan(4000); // a record per collection and the packed keys, not the items
    expect(report.deleted).toBe(true);
    expect(report.containsSecrets).toBe(false);
    const provider = readFileSync(report.providerFile, "utf8");
    expect(provider).not.toContain(token);
    expect(provider).not.toContain(stack.directus.adminPassword);
    // the provider's delete removed what the seed owned, except what hand-made items still use
    const users = (await client.request(readUsers({ fields: ["email"] }))) as { email: string }[];
    expect(users.map((u) => u.email)).not.toContain("dogfood.pilot@trm.dev");
    expect(await pg.query(stack.db, "SELECT code FROM classes ORDER BY code")).toEqual([{ code: "M-1" }, { code: "X-1" }]);
  });
});

describe("the DirectusSeed provider's read: `pulumi refresh` sees drift, the next update repairs it", () => {
  let state: Parameters<NonNullable<typeof directusSeedProvider.read>>[1] & object;

  const inputs = () => ({
    url: stack.directus.url,
    credentials: { email: stack.directus.adminEmail, password: stack.directus.adminPassword },
    source: "seed/rally-albania-2026.yaml",
    itemsFile: writeItemsFile(desired),
    maxPayloadSize: "1mb",
    collections: seedRecord(desired),
  });
  const refresh = async () => (await directusSeedProvider.read!("seed", state)).props!;
  const classRow = async (code: string) =>
    (await pg.query<{ name: string }>(stack.db, "SELECT name FROM classes WHERE code = $1", [code]))[0];

  beforeAll(async () => {
    await seed(desired, desired);
    state = { ...inputs(), counts: {}, ownedKeys: packKeys(desired) };
  });

  it("reads back exactly the seed's record when nothing changed", async () => {
    const observed = await refresh();
    expect(observed.collections).toEqual(seedRecord(desired));
    expect((await directusSeedProvider.diff!("seed", observed, inputs())).changes).toBe(false);
  });

  it("names the collection of a field edited by hand, and the update restores only that item", async () => {
    await pg.query(stack.db, "UPDATE classes SET name = 'edited by hand' WHERE code = 'M-2'");
    const observed = await refresh();
    expect(changedCollections(observed.collections, inputs().collections)).toEqual(["classes"]);
    expect(observed.counts.classes).toBe(18);
    expect((await directusSeedProvider.diff!("seed", observed, inputs())).changes).toBe(true);
    writes.length = 0;
    await directusSeedProvider.update!("seed", observed, inputs());
    expect(await classRow("M-2")).toEqual({ name: "MOTO 450-600cc" });
    expect(await classRow("X-1")).toBeDefined(); // the hand-made class is still there
  });

  it("finds an item deleted by hand gone, and the update creates it again", async () => {
    await pg.query(stack.db, "DELETE FROM classes WHERE code = 'M-3'");
    const observed = await refresh();
    expect(observed.counts.classes).toBe(17);
    await directusSeedProvider.update!("seed", observed, inputs());
    expect(await classRow("M-3")).toEqual({ name: "MOTO over 600cc, single cylinder" });
  });

  it("finds everything gone after a reset, and the update seeds it all again", async () => {
    // the hand-made items go first: the reset leaves the seeded collections empty
    await pg.query(stack.db, "DELETE FROM entries WHERE race_number <> 301");
    await pg.query(stack.db, "DELETE FROM classes WHERE code = 'X-1'");
    await seed(emptyOf(), desired);
    expect(await rowCounts()).toMatchObject({ events: 0, classes: 0, entries: 0 });
    const observed = await refresh();
    expect(Object.values(observed.counts).every((n) => n === 0)).toBe(true);
    await directusSeedProvider.update!("seed", observed, inputs());
    expect(await rowCounts()).toMatchObject({ events: 1, classes: 18, entries: 1, entry_crew: 2, entry_devices: 3 });
    expect((await refresh()).collections).toEqual(seedRecord(desired));
  });

  it("refuses to write a seed file that changed after the program read it, and writes nothing", async () => {
    const renamed = clone(desired);
    renamed.classes[`${EVENT}/M-1`].name = "renamed after the program ran";
    const before = await rowCounts();
    await expect(directusSeedProvider.update!("seed", state, { ...inputs(), collections: seedRecord(renamed) })).rejects.toThrow(
      /seed\/rally-albania-2026\.yaml changed while `pulumi up` ran \(classes differ/,
    );
    expect(await rowCounts()).toEqual(before);
  });

  it("fails with a clear message when Directus cannot be reached, instead of reporting the seed gone", async () => {
    const unreachable = { ...state, url: `http://127.0.0.1:${await freePort()}` };
    await expect(directusSeedProvider.read!("seed", unreachable)).rejects.toThrow(
      /cannot read the seed back from Directus at http:\/\/127\.0\.0\.1:\d+: .*the state was left as it was/,
    );
  });
});

describe("`npm run dev`'s ready check against this database and Directus", () => {
  const target = () => ({
    db: stack.db,
    directusUrl: stack.directus.url,
    admin: { email: stack.directus.adminEmail, password: stack.directus.adminPassword },
    seededEvents: 1,
  });

  it("passes when the database answers, Directus is healthy and the seeded event reads back", async () => {
    await seed(desired);
    const checks = await checkReady(target());
    expect(checks.map((c) => [c.ok, c.name])).toEqual([
      [true, `the database accepts a connection (127.0.0.1:${stack.db.port})`],
      [true, `Directus answers ${stack.directus.url}/server/health`],
      [true, "the seeded events read back through the API"],
    ]);
  });

  it("fails naming what is missing: no Directus there, a wrong database password, an event the seed holds but Directus lacks", async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const checks = await checkReady({ ...target(), directusUrl: nobody, db: { ...stack.db, password: "wrong-password" }, seededEvents: 2 });
    expect(checks.every((c) => !c.ok)).toBe(true);
    expect(checks[0].detail).toMatch(/password authentication failed/);
    expect(checks[1].detail).toBe("no answer (ECONNREFUSED)");
    expect(checks[2].detail).toMatch(/^login as .* \+ read events: /);
    const error = new NotReadyError(checks, 120, ["logs: docker logs trm-dev-directus"]);
    expect(error.message).toContain("the stack is not ready after 120 s:");
    expect(error.message).toContain(`FAIL Directus answers ${nobody}/server/health: no answer (ECONNREFUSED)`);

    const short = await checkReady({ ...target(), seededEvents: 2 });
    expect(short[2]).toMatchObject({ ok: false, detail: `1 event(s) as admin ${stack.directus.adminEmail}, the seed holds 2` });
  });
});
