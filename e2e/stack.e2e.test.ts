/**
 * The whole program (index.ts) end to end under the real engine: a fresh state backend and stack
 * `e2e` in a copy of the project: up → checks → up again (0 changes) → one seed change (preview
 * shows exactly it) → up → destroy. Needs the docker, postgresql and command provider plugins:
 * a Pulumi CLI on PATH (which downloads them where it can), or else scripts/pulumi-toolchain.sh,
 * which cannot build them on the offline machines (their Go modules are not served there) and then
 * fails here naming what is missing. `npm run test:e2e:stack`; not part of .ci/run for that reason.
 */
import { readCollections, readItems } from "@directus/sdk";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/seed/apply";
import { ensureDirectusRuntime } from "../tools/directus-runtime/index";
import { engineEnv, lastLine, projectCopy, run, seconds } from "./support";

const STACK = "e2e";
const SECRET_KEYS = ["adminPassword", "dbPassword", "directusKey", "directusSecret"];
const timings: Record<string, number> = {};

let project: string;
let env: NodeJS.ProcessEnv;
let outputs: Record<string, any>;
let secrets: Record<string, string>;

const pulumi = (args: string[], allowFailure = false) => run("pulumi", [...args, "--stack", STACK, "--non-interactive"], { cwd: project, env, allowFailure });
const npx = (args: string[]) => run("npx", args, { cwd: project, env });

function readOutputs(): Record<string, any> {
  return JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets"]).stdout);
}

async function withDb<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const password = outputs.portainerStack.env.find((e: { name: string }) => e.name === "DB_PASSWORD").value;
  const client = new pg.Client({ host: outputs.databaseHost, port: outputs.databasePort, database: outputs.databaseName, user: outputs.databaseUser, password });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function adminClient() {
  const password = outputs.portainerStack.env.find((e: { name: string }) => e.name === "ADMIN_PASSWORD").value;
  return connectDirectus(outputs.directusUrl, { email: outputs.adminEmail, password });
}

beforeAll(async () => {
  let started = Date.now();
  run("bash", ["scripts/docker-engine.sh"]);
  timings.dockerEngine = seconds(started);
  started = Date.now();
  run("bash", ["scripts/standins/build.sh"]);
  timings.standinImages = seconds(started);
  started = Date.now();
  const onPath = run("sh", ["-c", "command -v pulumi"], { allowFailure: true }).stdout.trim();
  const toolchainBin = onPath ? path.dirname(onPath) : lastLine(run("bash", ["scripts/pulumi-toolchain.sh"]).stdout);
  timings.toolchain = seconds(started);
  // Node 22 for the language host (@pulumi/pulumi 3.276 wants it), from the cached Directus runtime.
  const node22 = path.dirname((await ensureDirectusRuntime()).nodeBin);

  project = projectCopy();
  copyFileSync(path.join(project, "Pulumi.ci.yaml"), path.join(project, `Pulumi.${STACK}.yaml`));
  env = engineEnv(project, [toolchainBin, node22], Boolean(onPath));
  npx(["tsx", "scripts/dev.ts", "--prepare-only", STACK]);
  npx(["tsx", "scripts/ci-ports.ts", STACK]);
  secrets = Object.fromEntries(SECRET_KEYS.map((k) => [k, pulumi(["config", "get", k]).stdout.trim()]));
}, 90 * 60_000);

afterAll(() => {
  if (!project) return;
  // never leave containers behind, even when a step failed
  pulumi(["destroy", "--yes"], true);
  console.log(`e2e timings (s): ${JSON.stringify(timings)}`);
  writeFileSync(path.join(os.tmpdir(), "trm-e2e-timings.json"), JSON.stringify(timings, null, 2));
});

describe("pulumi up on a fresh stack", () => {
  it("yields a migrated, seeded stack in one run", () => {
    const started = Date.now();
    const up = pulumi(["up", "--yes", "--skip-preview"]);
    timings.firstUp = seconds(started);
    expect(up.stdout).toMatch(/Resources:\s+\n?\s*\+ \d+ created/);
    outputs = readOutputs();
  });

  it("runs both containers healthy", () => {
    for (const name of [`trm-${STACK}-db`, `trm-${STACK}-directus`]) {
      expect(run("docker", ["inspect", "-f", "{{.State.Health.Status}}", name]).stdout.trim(), name).toBe("healthy");
    }
  });

  it("recorded every migration", async () => {
    const rows = await withDb((c) => c.query("SELECT filename FROM migrations_applied ORDER BY filename"));
    expect(rows.rows.map((r) => r.filename)).toEqual([
      "001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql",
      "100_organization_users_unique.sql", "101_organization_vehicles_unique.sql", "102_organization_devices_unique.sql",
      "103_events_unique.sql", "104_classes_unique.sql", "105_entries_unique.sql", "106_entry_crew_unique.sql", "107_entry_devices_unique.sql",
    ]);
  });

  it("has the 12 collections and the seeded Rally Albania rows, read through the SDK", async () => {
    const client = await adminClient();
    const tracked = ((await client.request(readCollections())) as { collection: string; meta: unknown }[])
      .filter((c) => c.meta !== null && !c.collection.startsWith("directus_"))
      .map((c) => c.collection);
    expect(tracked).toHaveLength(11);
    const classes = await client.request(readItems("classes", { limit: -1 }));
    expect(classes).toHaveLength(18);
    const [entry] = (await client.request(readItems("entries", { filter: { race_number: { _eq: 301 } }, fields: ["id", "status"] }))) as { id: string; status: string }[];
    expect(entry.status).toBe("registered");
    expect(await client.request(readItems("entry_devices", { filter: { entry_id: { _eq: entry.id } } }))).toHaveLength(3);
    const smoke = run("npm", ["run", "--silent", "stack", "--", "smoke"], { cwd: project, env: { ...env, TRM_STACK: STACK } });
    expect(smoke.stdout).toContain("smoke: all checks passed");
  });

  it("exports the outputs Portainer and the scripts use", () => {
    expect(outputs.directusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(outputs.adminEmail).toBe("ci@trm.dev");
    expect(outputs.databaseHost).toBe("127.0.0.1");
    expect(outputs.imageId).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(outputs.volumes).toEqual({ data: `trm-${STACK}-pgdata`, uploads: `trm-${STACK}-uploads` });
    expect(outputs.portainerStack.compose).toContain("image: git.dev.microservices.al/trm/directus:main");
    expect(outputs.seededCounts.classes).toBe(18);
  });

  it("keeps every secret out of the state file in plaintext", () => {
    const state = pulumi(["stack", "export"]).stdout;
    for (const [key, value] of Object.entries(secrets)) expect(state.includes(value), key).toBe(false);
    expect(state).toContain("ciphertext");
  });

  it("bakes no secret into the image", () => {
    const history = run("docker", ["history", "--no-trunc", "--format", "{{.CreatedBy}}", `trm-directus:${STACK}`]).stdout;
    const inspect = run("docker", ["image", "inspect", `trm-directus:${STACK}`]).stdout;
    for (const [key, value] of Object.entries(secrets)) {
      expect(history.includes(value), key).toBe(false);
      expect(inspect.includes(value), key).toBe(false);
    }
  });
});

describe("a second pulumi up", () => {
  it("reports 0 changes", () => {
    const started = Date.now();
    const up = pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    timings.noopUp = seconds(started);
    expect(up.stdout).not.toMatch(/[~+-] \d+ (updated|created|deleted|replaced)/);
  });
});

describe("changing one seed value", () => {
  it("pulumi preview shows exactly that one update", () => {
    const seedFile = path.join(project, "seed/rally-albania-2026.yaml");
    writeFileSync(seedFile, readFileSync(seedFile, "utf8").replace("name: MOTO Under 450cc,", "name: MOTO up to 450cc,"));
    const preview = JSON.parse(pulumi(["preview", "--json", "--diff"]).stdout);
    expect(preview.changeSummary).toMatchObject({ update: 1 });
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual(["update"]);
    const updated = preview.steps.filter((s: { op: string }) => s.op === "update");
    expect(updated.map((s: { urn: string }) => s.urn.split("::").pop())).toEqual(["seed"]);
    const diff = JSON.stringify(updated[0].detailedDiff ?? updated[0].diffs ?? {});
    expect(diff).toContain("M-1");
  });

  it("pulumi up applies it", async () => {
    pulumi(["up", "--yes", "--skip-preview"]);
    const client = await adminClient();
    const [m1] = (await client.request(readItems("classes", { filter: { code: { _eq: "M-1" } }, fields: ["name"] }))) as { name: string }[];
    expect(m1.name).toBe("MOTO up to 450cc");
  });
});

describe("pulumi destroy", () => {
  it("leaves no container, network or (for this stack's config) volume behind", () => {
    const started = Date.now();
    pulumi(["destroy", "--yes", "--skip-preview"]);
    timings.destroy = seconds(started);
    const filter = `name=trm-${STACK}-`;
    expect(run("docker", ["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]).stdout.trim()).toBe("");
    expect(run("docker", ["network", "ls", "--filter", filter, "--format", "{{.Name}}"]).stdout.trim()).toBe("");
    expect(run("docker", ["volume", "ls", "--filter", filter, "--format", "{{.Name}}"]).stdout.trim()).toBe("");
  });
});

