/**
 * npm run smoke: checks a running stack's Directus the way a user would: healthy, admin can log in,
 * every collection and field of snapshots/schema.yaml exists, and Rally Albania 2026 is seeded (event,
 * the seed's classes by code, entry 301 with its crew and three devices); then prints the schema
 * drift the start-up recorded (what the database has that the snapshot lacks). Env: DIRECTUS_URL,
 * DIRECTUS_ADMIN_EMAIL, DIRECTUS_ADMIN_PASSWORD, and DB_* for the drift (`npm run stack -- smoke`
 * takes them all from the stack's outputs).
 */
import { readCollections, readFields, readItems } from "@directus/sdk";
import { connectDirectus } from "../lib/directus-client";
import path from "node:path";
import { readDbSettings } from "../lib/db/settings";
import { describeRecordedDrift } from "../lib/schema/drift-record";
import { readSchemaModel } from "../lib/schema/model";
import { loadSeedFile } from "../lib/seed/data";
import { DEFAULT_SEED_FILE } from "../lib/stack-config";

const MODEL = readSchemaModel();

const REPO_ROOT = path.resolve(__dirname, "..");
const SEEDED_CLASS_CODES = Object.values(loadSeedFile(path.join(REPO_ROOT, DEFAULT_SEED_FILE)).classes).map((c) => String(c.code));

async function main(): Promise<void> {
  const url = process.env.DIRECTUS_URL;
  const email = process.env.DIRECTUS_ADMIN_EMAIL;
  const password = process.env.DIRECTUS_ADMIN_PASSWORD;
  if (!url || !email || !password) throw new Error("set DIRECTUS_URL, DIRECTUS_ADMIN_EMAIL and DIRECTUS_ADMIN_PASSWORD");
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => (ok ? console.log(`smoke: ok   ${what}`) : problems.push(what));

  const health = (await (await fetch(`${url}/server/health`)).json()) as { status?: string };
  check(health.status === "ok", "GET /server/health is ok");
  const client = await connectDirectus(url, { email, password });
  const all = (await client.request(readCollections())) as { collection: string; meta: unknown }[];
  const tracked = all.filter((c) => c.meta !== null).map((c) => c.collection);
  const absent = MODEL.collections.filter((c) => !tracked.includes(c));
  check(absent.length === 0, `the ${MODEL.collections.length} collections of snapshots/schema.yaml exist${absent.length ? ` (missing: ${absent.join(", ")})` : ""}`);
  const live = new Set(((await client.request(readFields())) as { collection: string; field: string }[]).map((f) => `${f.collection}.${f.field}`));
  const absentFields = MODEL.snapshot.fields.map((f) => `${f.collection}.${f.field}`).filter((f) => !live.has(f));
  check(absentFields.length === 0, `the ${MODEL.snapshot.fields.length} fields of snapshots/schema.yaml exist${absentFields.length ? ` (missing: ${absentFields.join(", ")})` : ""}`);
  check(!tracked.includes("positions") && !tracked.includes("migrations_applied"), "SQL-owned tables are not Directus collections");
  const events = (await client.request(readItems("events", { filter: { slug: { _eq: "rally-albania-2026" } }, fields: ["id"] }))) as { id: string }[];
  check(events.length === 1, "event rally-albania-2026 is seeded");
  const classes = (await client.request(
    readItems("classes", { filter: { event_id: { _eq: events[0]?.id } }, fields: ["code"], limit: -1 }),
  )) as { code: string }[];
  // the seed's classes, by code; a class made by hand in the admin UI is no failure
  const missing = SEEDED_CLASS_CODES.filter((code) => !classes.some((c) => c.code === code));
  check(missing.length === 0, `the ${SEEDED_CLASS_CODES.length} seeded classes exist${missing.length ? ` (missing: ${missing.join(", ")})` : ""}`);
  const entries = (await client.request(
    readItems("entries", { filter: { race_number: { _eq: 301 } }, fields: ["id", "status"] }),
  )) as { id: string; status: string }[];
  check(entries.length === 1 && entries[0].status === "registered", "entry 301 is registered");
  const devices = await client.request(readItems("entry_devices", { filter: { entry_id: { _eq: entries[0]?.id } } }));
  check(devices.length === 3, `entry 301 has 3 devices (found ${devices.length})`);
  const crew = await client.request(readItems("entry_crew", { filter: { entry_id: { _eq: entries[0]?.id } } }));
  check(crew.length >= 1, `entry 301 has a crew (found ${crew.length})`);

  if (process.env.DB_HOST) for (const line of await describeRecordedDrift(readDbSettings(process.env))) console.log(`smoke: ${line}`);
  if (problems.length > 0) throw new Error(`smoke check failed:\n${problems.map((p) => `- ${p}`).join("\n")}`);
  console.log("smoke: all checks passed");
}

main().catch((error: Error) => {
  console.error(`smoke: ERROR ${error.message}`);
  process.exitCode = 1;
});
