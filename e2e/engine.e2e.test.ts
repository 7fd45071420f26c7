/**
 * The real Pulumi engine (CLI 3.276.0 built from Go modules by scripts/pulumi-toolchain.sh) running
 * the project's dynamic resources (SqlMigrations, DirectusSeed) against our Directus image and the
 * database stand-in started with plain Docker: fresh local state → up → checks → up again (0 changes)
 * → one seed change (preview shows exactly it) → migration edits caught at preview → destroy.
 */
import { readItems } from "@directus/sdk";
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/seed/apply";
import { ensureDirectusRuntime } from "../tools/directus-runtime/index";
import { startDockerStack, type DockerStack } from "./docker-stack";
import { engineEnv, lastLine, projectCopy, run, seconds } from "./support";
import { freePort } from "../lib/free-port";

const STACK = "engine";
const IMAGE = "trm-directus:e2e";
const timings: Record<string, number> = {};
const secrets = {
  dbPassword: randomBytes(12).toString("hex"),
  adminPassword: `Trm${randomBytes(9).toString("hex")}9`,
};

let project: string;
let env: NodeJS.ProcessEnv;
let stack: DockerStack;

const pulumi = (args: string[], allowFailure = false) =>
  run("pulumi", [...args, "--stack", STACK, "--non-interactive"], { cwd: project, env, allowFailure });

async function query<R extends object>(sql: string): Promise<R[]> {
  const client = new pg.Client(stack.db);
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Logs in as the admin; one retry, because a kept-alive socket the server just closed fails a POST once. */
async function admin() {
  const login = () => connectDirectus(stack.directusUrl, { email: "ci@trm.dev", password: secrets.adminPassword });
  try {
    return await login();
  } catch {
    return login();
  }
}

beforeAll(async () => {
  let t = Date.now();
  run("bash", ["scripts/docker-engine.sh"]);
  run("bash", ["scripts/standins/build.sh"]);
  timings.dockerAndStandins = seconds(t);
  t = Date.now();
  const toolchainBin = lastLine(run("bash", ["scripts/pulumi-toolchain.sh", "--partial"]).stdout);
  timings.toolchain = seconds(t);
  const node22 = path.dirname((await ensureDirectusRuntime()).nodeBin);

  project = projectCopy();
  t = Date.now();
  run("npm", ["run", "--silent", "build:image"], { cwd: project });
  run("docker", ["build", "-q", "-t", IMAGE, "."], { cwd: project, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  timings.imageBuild = seconds(t);

  stack = startDockerStack({
    prefix: "trm-e2e",
    directusImage: IMAGE,
    databaseImage: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all",
    dbPort: await freePort(),
    directusPort: await freePort(),
    dbPassword: secrets.dbPassword,
    adminEmail: "ci@trm.dev",
    adminPassword: secrets.adminPassword,
  });
  timings.containersHealthy = stack.secondsToHealthy;

  // The engine program is the project's own, through Pulumi.yaml's `main`.
  const pulumiYaml = path.join(project, "Pulumi.yaml");
  writeFileSync(pulumiYaml, readFileSync(pulumiYaml, "utf8").replace(/^config:[\s\S]*$/m, "").replace("runtime:", "main: e2e/engine-program.ts\nruntime:"));
  env = engineEnv(project, [toolchainBin, node22], false);
  expect(run("pulumi", ["version"], { cwd: project, env }).stdout.trim()).toBe("v3.276.0");
  run("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: project, env });
  pulumi(["config", "set", "dbPort", String(stack.db.port)]);
  pulumi(["config", "set", "directusUrl", stack.directusUrl]);
  pulumi(["config", "set", "adminEmail", "ci@trm.dev"]);
  for (const [key, value] of Object.entries(secrets)) {
    run("pulumi", ["config", "set", "--secret", key, "--stack", STACK, "--non-interactive"], { cwd: project, env, input: value });
  }
}, 90 * 60_000);

afterAll(() => {
  if (project) pulumi(["destroy", "--yes", "--skip-preview"], true);
  stack?.remove();
  console.log(`engine e2e timings (s): ${JSON.stringify(timings)}`);
});

describe("the real Pulumi engine with the project's dynamic resources", () => {
  it("pulumi up migrates and seeds", async () => {
    const t = Date.now();
    const up = pulumi(["up", "--yes", "--skip-preview"]);
    timings.firstUp = seconds(t);
    expect(up.stdout).toMatch(/\+ 4 created/);
    const counts = JSON.parse(pulumi(["stack", "output", "seededCounts", "--json"]).stdout);
    expect(counts.classes).toBe(18);
    const [{ n }] = await query<{ n: number }>("SELECT count(*)::int AS n FROM migrations_applied");
    expect(n).toBe(11);
    const client = await admin();
    expect(await client.request(readItems("classes", { limit: -1 }))).toHaveLength(18);
    const entries = await client.request(readItems("entries", { filter: { race_number: { _eq: 301 } } }));
    expect(entries).toHaveLength(1);
  });

  it("keeps the secrets out of the state in plaintext", () => {
    const state = pulumi(["stack", "export"]).stdout;
    for (const [key, value] of Object.entries(secrets)) expect(state.includes(value), key).toBe(false);
    expect(state).toContain("ciphertext");
    expect(state).toContain("__provider"); // the serialized dynamic providers, which hold no credentials
  });

  it("a second up reports 0 changes", () => {
    const t = Date.now();
    pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    timings.noopUp = seconds(t);
  });

  it("one changed seed value: preview shows exactly that update, up applies it", async () => {
    const seedFile = path.join(project, "seed/rally-albania-2026.yaml");
    writeFileSync(seedFile, readFileSync(seedFile, "utf8").replace("name: MOTO Under 450cc,", "name: MOTO up to 450cc,"));
    const preview = JSON.parse(pulumi(["preview", "--json", "--diff"]).stdout);
    const changed = preview.steps.filter((s: { op: string }) => s.op !== "same");
    expect(changed.map((s: { op: string; urn: string }) => `${s.op} ${s.urn.split("::").pop()}`)).toEqual(["update seed"]);
    expect(JSON.stringify(changed[0].diffReasons ?? changed[0].detailedDiff ?? changed[0])).toContain("items");
    pulumi(["up", "--yes", "--skip-preview"]);
    const client = await admin();
    const [m1] = (await client.request(readItems("classes", { filter: { code: { _eq: "M-1" } }, fields: ["name"] }))) as { name: string }[];
    expect(m1.name).toBe("MOTO up to 450cc");
  });

  it("a new migration file shows in the preview by name; an edited applied file fails the preview", () => {
    const newFile = path.join(project, "db-post/108_e2e_probe.sql");
    writeFileSync(newFile, "SELECT 1;\n");
    const preview = pulumi(["preview", "--diff"]);
    expect(preview.stdout).toContain("108_e2e_probe.sql");
    run("rm", [newFile]);

    const applied = path.join(project, "db-init/002_positions_hypertable.sql");
    const original = readFileSync(applied);
    appendFileSync(applied, "\n-- edited after being applied\n");
    const failed = pulumi(["preview"], true);
    writeFileSync(applied, original);
    expect(failed.status).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/checksum mismatch: 002_positions_hypertable\.sql/);
  });

  it("pulumi destroy removes what the seed created and leaves the database's migrations", async () => {
    const t = Date.now();
    pulumi(["destroy", "--yes", "--skip-preview"]);
    timings.destroy = seconds(t);
    const [{ n }] = await query<{ n: number }>("SELECT count(*)::int AS n FROM classes");
    expect(n).toBe(0);
    const [{ m }] = await query<{ m: number }>("SELECT count(*)::int AS m FROM migrations_applied");
    expect(m).toBe(11);
  });
});
