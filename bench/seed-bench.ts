/**
 * Seed engine benchmark (issue: seed). Generates a 250-entry event (250 vehicles, 500 crew users,
 * 750 devices and every junction row), seeds it into the real Directus 11.17.4 test runtime on
 * PostgreSQL 16, and prints seconds for the first seed and a no-op re-seed (with its write-request
 * count), against one raw batch insert per collection through the same API on a fresh instance.
 *   npx tsx bench/seed-bench.ts            (targets: first seed ≤ 10 s and ≤ 3x raw; re-seed 0 writes)
 * Writes bench/results/seed.json.
 */
import { createItems, createUsers } from "@directus/sdk";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connectDirectus } from "../lib/directus-client";
import { seedDirectus, type SeedClient } from "../lib/seed/apply";
import { emptyState, type SeedState } from "../lib/seed/model";
import { planSeed, type ExistingState } from "../lib/seed/plan";
import { COLLECTIONS } from "../lib/seed/model";
import { startDirectusWithSchema } from "../tools/harness/directus";
import prepareMachine from "../tools/harness/machine-setup";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

const ENTRIES = 250;

function luhnComplete(base14: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    let d = Number(base14[13 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return base14 + String((10 - (sum % 10)) % 10);
}

export function generateEvent(entries: number): SeedState {
  const s = emptyState();
  const org = "bench-org";
  const event = `${org}/bench-rally`;
  s.organizations[org] = { slug: org, name: "Bench Org" };
  s.events[event] = { organization_id: org, slug: "bench-rally", name: "Bench Rally", discipline: "rally", starts_at: "2026-06-06T00:00:00Z", ends_at: "2026-06-13T23:59:59Z", regulation_doc_url: null, notes: null };
  const codes = ["M-1", "M-2", "Q-1", "C-1", "S-1"];
  codes.forEach((code, i) => (s.classes[`${event}/${code}`] = { event_id: event, code, name: `Class ${code}`, description: null, sort_order: (i + 1) * 10 }));
  for (let n = 1; n <= entries; n++) {
    const vehicle = `plate:BE-${String(n).padStart(3, "0")}-CH`;
    s.vehicles[vehicle] = { plate: vehicle.slice(6), vin: null, make: "Toyota", model: "Land Cruiser", year: 2000 + (n % 25), cc: 4000 };
    s.organization_vehicles[`${org}/${vehicle}`] = { organization_id: org, vehicle_id: vehicle, registered_at: "2026-05-01T09:00:00Z" };
    const entry = `${event}/#${n}`;
    s.entries[entry] = { event_id: event, race_number: n, status: "registered", class_id: `${event}/${codes[n % codes.length]}`, vehicle_id: vehicle };
    const crew = [`pilot${n}@bench.dev`, `copilot${n}@bench.dev`];
    crew.forEach((email, i) => {
      s.directus_users[email] = { email, first_name: i ? "Co" : "Pilot", last_name: String(n), phone: null, birth_date: "1985-01-01", nationality: "AL" };
      s.organization_users[`${org}/${email}`] = { organization_id: org, user_id: email, role: "participant" };
      s.entry_crew[`${entry}/${email}`] = { entry_id: entry, user_id: email, role: i ? "co-pilot" : "pilot" };
    });
    for (let d = 0; d < 3; d++) {
      const imei = luhnComplete(`35630704${String(n * 3 + d).padStart(6, "0")}`);
      s.devices[imei] = { imei, model: d === 2 ? "FMB003" : "FMB920" };
      s.organization_devices[`${org}/${imei}`] = { organization_id: org, device_id: imei, registered_at: "2026-05-01T09:00:00Z" };
      s.entry_devices[`${entry}/${imei}`] = { entry_id: entry, device_id: imei, assigned_user_id: d === 2 ? crew[0] : null };
    }
  }
  return s;
}

function countingClient(url: string, email: string, password: string, writes: string[]): Promise<SeedClient> {
  return connectDirectus(url, { email, password }, async (input, init) => {
    if ((init?.method ?? "GET") !== "GET" && !String(input).includes("/auth/")) writes.push(String(init?.method));
    return fetch(input, init);
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await fn();
  return [result, (performance.now() - started) / 1000];
}

const ROUNDS = 2;

/** Seeds a fresh instance; returns [first seed s, its writes, no-op re-seed s, its writes]. */
async function seedRound(pg: TestPostgres, desired: SeedState): Promise<[number, number, number, number]> {
  const instance = await startDirectusWithSchema(pg);
  try {
    const writes: string[] = [];
    const client = await countingClient(instance.directus.url, instance.directus.adminEmail, instance.directus.adminPassword, writes);
    const [, first] = await timed(() => seedDirectus({ client, desired }));
    const firstWrites = writes.length;
    writes.length = 0;
    const [, noop] = await timed(() => seedDirectus({ client, desired, previous: desired }));
    return [first, firstWrites, noop, writes.length];
  } finally {
    await instance.directus.stop();
  }
}

/** One batch create per collection with ready payloads (no reads, no planning), on a fresh instance. */
async function rawRound(pg: TestPostgres, desired: SeedState): Promise<number> {
  const instance = await startDirectusWithSchema(pg);
  try {
    const raw = await countingClient(instance.directus.url, instance.directus.adminEmail, instance.directus.adminPassword, []);
    const empty = Object.fromEntries(COLLECTIONS.map((c) => [c.name, []])) as unknown as ExistingState;
    const plan = planSeed(desired, empty);
    const [, seconds] = await timed(async () => {
      for (const p of plan) {
        const payloads = p.creates.map((c) => c.payload);
        await raw.request(p.collection === "directus_users" ? createUsers(payloads, { fields: ["id"] }) : createItems(p.collection, payloads, { fields: ["id"] }));
      }
    });
    return seconds;
  } finally {
    await instance.directus.stop();
  }
}

async function main(): Promise<void> {
  prepareMachine(); // as `npm test` does: postgres OS user when root, the TimescaleDB double
  const desired = generateEvent(ENTRIES);
  const items = Object.values(desired).reduce((n, c) => n + Object.keys(c).length, 0);
  const pg = await startPostgres();
  try {
    // Alternate, best of ROUNDS each: fresh instances, so neither side gets a warmer server.
    const seeds: [number, number, number, number][] = [];
    const raws: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raws.push(await rawRound(pg, desired));
      seeds.push(await seedRound(pg, desired));
    }
    const best = seeds.reduce((a, b) => (b[0] < a[0] ? b : a));
    const [first, firstWrites, noop, noopWrites] = best;
    const rawSeconds = Math.min(...raws);
    const result = {
      items,
      entries: ENTRIES,
      rounds: ROUNDS,
      firstSeedSeconds: round(first),
      firstSeedWriteRequests: firstWrites,
      noopReseedSeconds: round(noop),
      noopReseedWriteRequests: noopWrites,
      rawBatchSeconds: round(rawSeconds),
      ratioFirstSeedToRaw: round(first / rawSeconds),
      allFirstSeedSeconds: seeds.map((s) => round(s[0])),
      allRawSeconds: raws.map(round),
      targets: { firstSeedSeconds: 10, ratioFirstSeedToRaw: 3, noopReseedWriteRequests: 0 },
      measuredAt: new Date().toISOString(),
    };
    console.log(
      `seed bench: ${items} items (${ENTRIES} entries), best of ${ROUNDS} fresh instances each\n` +
        `  first seed      ${result.firstSeedSeconds} s, ${firstWrites} write requests\n` +
        `  no-op re-seed   ${result.noopReseedSeconds} s, ${noopWrites} write requests\n` +
        `  raw batches     ${result.rawBatchSeconds} s (one create per collection, in order)\n` +
        `  ratio first/raw ${result.ratioFirstSeedToRaw}x (target ≤ 3x; first seed target ≤ 10 s)`,
    );
    const out = path.join(__dirname, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "seed.json"), JSON.stringify(result, null, 2) + "\n");
  } finally {
    await pg.stop();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

if (require.main === module) main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
