/**
 * The health-gated redeploy (lib/portainer/rollout.ts) against the HTTP fake of Portainer CE 2.23
 * (test/support/fake-portainer.ts), its Docker host simulated: each Directus image plays the states
 * Docker's API would show (healthy; unhealthy; restarting; exited; never healthy in time) and the
 * rollback, and its own failure. Then the redeploy's seed through publicUrl into a real Directus
 * 11.17.4, and the promotion to prod. The same against real containers: e2e/portainer-rollout.e2e.test.ts.
 */
import { createItem, readItems } from "@directus/sdk";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderPortainerStack, type PortainerStack, type PortainerStackInput } from "../lib/compose";
import { freePort } from "../lib/free-port";
import { demultiplex, describeStartupStep, rolloutToPortainer, RolloutError, type PortainerTarget } from "../lib/portainer";
import { promote, redeploy, type RedeployDeps } from "../scripts/portainer-stack";
import { teamSettings } from "../scripts/render-portainer-compose";
import { loadSeedFile } from "../lib/seed/data";
import { REPO_ROOT } from "./support/cli";
import { startDirectusWithSchema, type DirectusWithSchema } from "../tools/harness/directus";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";
import { COMPOSE, FakePortainer, multiplex, type DirectusPlay } from "./support/fake-portainer";

const REPOSITORY = "git.dev.microservices.al/trm/directus";
const GOOD = `${REPOSITORY}@sha256:${"a".repeat(64)}`;
const NEW = `${REPOSITORY}@sha256:${"b".repeat(64)}`;
const DB_IMAGE = "timescale/timescaledb-ha:pg16.6-ts2.17.2-all";
const SEED_FILE = path.join(REPO_ROOT, "seed/rally-albania-2026.yaml");

const input = (directusImage: string, adminPassword = "admin-secret-value-2"): PortainerStackInput => ({
  directusImage,
  databaseImage: DB_IMAGE,
  database: { name: "directus", user: "directus", password: "db-secret-value-1" },
  directus: {
    publicUrl: "https://trm.example.com",
    adminEmail: "admin@trm.dev",
    adminPassword,
    key: "key-secret-value-3",
    secret: "secret-secret-value-4",
    schemaApplyMode: "apply",
    schemaAllowDeletions: false,
  },
});

const startupLines = (failedAt?: string) => [
  "[trm-startup] ==> 1/5 pre-schema migrations from /directus/trm/db-init",
  ...(failedAt === "1/5"
    ? ["migrations: 0007_trm_rank.sql failed: relation \"nope\" does not exist", "[trm-startup] FAILED at step 1/5 pre-schema migrations (exit 1): Directus was not started. See the lines above."]
    : ["migrations: up to date", "[trm-startup] ==> 2/5 directus bootstrap", "[trm-startup] ==> 3/5 schema from /directus/trm/snapshots/schema.yaml (SCHEMA_APPLY_MODE=apply)",
      ...(failedAt === "3/5" ? ["schema: refused", "[trm-startup] FAILED at step 3/5 schema (exit 3): Directus was not started. See the lines above."] : ["[trm-startup] ==> 4/5 post-schema migrations", "[trm-startup] ==> 5/5 starting Directus (pm2-runtime start ecosystem.config.cjs)"])]),
];

const HEALTHY: DirectusPlay = { states: [{ Status: "running", Health: "starting", polls: 2 }, { Status: "running", Health: "healthy" }], logs: startupLines() };

describe("the health gate and the rollback (simulated Docker host behind the fake's Docker proxy)", () => {
  let fake: FakePortainer;
  let target: PortainerTarget;
  const lines: string[] = [];
  const gate = { timeoutMs: 2_000, pollMs: 10, log: (line: string) => void lines.push(line), keepExistingSecrets: true };

  beforeEach(async () => {
    lines.length = 0;
    fake = new FakePortainer();
    fake.registry.add(GOOD).add(NEW).add(DB_IMAGE);
    fake.directusPlays.set(GOOD, HEALTHY);
    await fake.start();
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "local");
    target = { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: "trm-directus" };
  });
  afterEach(() => fake.stop());

  /** The good version deployed and healthy, then the update to NEW playing `play`. */
  async function updateTo(play: DirectusPlay, options = gate) {
    const good = renderPortainerStack(input(GOOD));
    await rolloutToPortainer(target, good, gate);
    fake.directusPlays.set(NEW, play);
    lines.length = 0;
    const error = await rolloutToPortainer(target, renderPortainerStack(input(NEW, "rotated-but-kept")), options).catch((e: Error) => e);
    return { good, error };
  }

  const runningImage = () => fake.containers.find((c) => c.service === "directus")!.image;
  const proxied = () => fake.requests.filter((r) => r.path.startsWith("/api/endpoints/1/docker/")).map((r) => r.path.replace(/\?.*/, "").replace(/[0-9a-f]{64}/, "<id>"));

  it("healthy: the update is accepted, then the new Directus is watched through the Docker proxy until healthy; times reported", async () => {
    const { error } = await updateTo(HEALTHY);
    expect(error).not.toBeInstanceOf(Error);
    const result = error as unknown as Awaited<ReturnType<typeof rolloutToPortainer>>;
    expect(result).toMatchObject({ action: "updated", image: NEW, keptSecrets: expect.arrayContaining(["ADMIN_PASSWORD"]) });
    expect(result.acceptedMs).toBeGreaterThanOrEqual(0);
    expect(result.healthyMs).toBeGreaterThanOrEqual(0);
    expect(lines[0]).toMatch(/^Portainer accepted the update of trm-directus in \d+\.\d s; waiting up to 2\.0 s for Directus .*@sha256:b+ to be healthy$/);
    expect(lines.at(-1)).toMatch(/^Directus .*@sha256:b+ healthy \d+\.\d s after the update was accepted$/);
    expect(runningImage()).toBe(NEW);
    // list by the compose labels, then inspect; three polls: starting, starting, healthy
    expect(proxied().slice(-6)).toEqual(Array(3).fill(["/api/endpoints/1/docker/containers/json", "/api/endpoints/1/docker/containers/<id>/json"]).flat());
    const list = fake.requests.find((r) => r.path.startsWith("/api/endpoints/1/docker/containers/json"))!;
    expect(JSON.parse(new URL(list.path, fake.url).searchParams.get("filters")!)).toEqual({
      label: ["com.docker.compose.project=trm-directus", "com.docker.compose.service=directus"],
    });
  });

  it.each([
    {
      what: "unhealthy",
      play: { states: [{ Status: "running", Health: "starting" }, { Status: "running", Health: "unhealthy" }], logs: startupLines() },
      reason: /did not become healthy \(Docker reports it unhealthy\); the last start-up step it reached was 5\/5 starting Directus/,
    },
    {
      what: "restarting",
      play: { states: [{ Status: "restarting", RestartCount: 1, ExitCode: 1 }], logs: startupLines("1/5") },
      reason: /did not become healthy \(it is restarting \(restarted 1 time\(s\), last exit code 1\)\); start-up failed at step 1\/5 pre-schema migrations \(exit 1\)/,
    },
    {
      what: "exited",
      play: { states: [{ Status: "exited", ExitCode: 3 }], logs: startupLines("3/5") },
      reason: /did not become healthy \(it exited with code 3\); start-up failed at step 3\/5 schema \(exit 3\)/,
    },
    {
      what: "never healthy in time",
      play: { states: [{ Status: "running", Health: "starting" }], logs: startupLines() },
      reason: /did not become healthy \(not healthy within 0\.2 s: it is running, health starting\)/,
      timeoutMs: 200,
    },
  ] as { what: string; play: DirectusPlay; reason: RegExp; timeoutMs?: number }[])(
    "$what: prints its last start-up lines, rolls back to the compose text and env it ran before, and fails naming the step and the image running",
    async ({ play, reason, timeoutMs }) => {
      const { good, error } = await updateTo(play, { ...gate, timeoutMs: timeoutMs ?? gate.timeoutMs });
      expect(error).toBeInstanceOf(RolloutError);
      expect((error as RolloutError).rolledBack).toBe(true);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toMatch(/Rolled back: stack trm-directus runs Directus .*@sha256:a+ again, healthy$/);
      expect(lines).toContain(`  | ${play.logs.at(-1)}`);
      expect(lines).toContainEqual(expect.stringMatching(/^rolled back: Directus .*@sha256:a+ healthy \d+\.\d s after the rollback started$/));
      const [stack] = fake.stacks;
      expect(stack.compose).toBe(good.compose);
      expect(stack.Env).toEqual(good.env);
      expect(runningImage()).toBe(GOOD);
      // the rollback does not pull: the previous images are on the host
      expect(fake.requests.filter((r) => r.method === "PUT").map((r) => r.body.pullImage)).toEqual([true, false]);
    },
  );

  it("the rollback itself failing (the previous version is not healthy either): says so loudly, with both errors", async () => {
    const good = renderPortainerStack(input(GOOD));
    await rolloutToPortainer(target, good, gate);
    fake.directusPlays.set(NEW, { states: [{ Status: "exited", ExitCode: 1 }], logs: startupLines("1/5") });
    fake.directusPlays.set(GOOD, { states: [{ Status: "restarting", RestartCount: 2, ExitCode: 1 }], logs: ["database is gone"] });
    const error = (await rolloutToPortainer(target, renderPortainerStack(input(NEW)), gate).catch((e: Error) => e)) as RolloutError;
    expect(error.rolledBack).toBe(false);
    expect(error.message).toMatch(/^ROLLBACK FAILED, stack trm-directus may be down: Directus .*@sha256:b+ did not become healthy \(it exited with code 1\); start-up failed at step 1\/5/);
    expect(error.message).toMatch(/then putting back Directus .*@sha256:a+ failed: the previous version did not become healthy either \(it is restarting/);
    expect(error.message).toMatch(/Restore it by hand in Portainer \(Stacks → trm-directus → Editor\)/);
  });

  it("the rollback itself failing (Portainer refuses the update back): both errors", async () => {
    await rolloutToPortainer(target, renderPortainerStack(input(GOOD)), gate);
    fake.directusPlays.set(NEW, { states: [{ Status: "exited", ExitCode: 1 }], logs: startupLines("1/5") });
    fake.failingUpdates.set(GOOD, "Error response from daemon: no space left on device");
    const error = (await rolloutToPortainer(target, renderPortainerStack(input(NEW)), gate).catch((e: Error) => e)) as RolloutError;
    expect(error.rolledBack).toBe(false);
    expect(error.message).toMatch(/^ROLLBACK FAILED.*step 1\/5 pre-schema migrations.*then putting back Directus .*@sha256:a+ failed: Portainer PUT \/stacks\/1\?endpointId=1: HTTP 500 failed to deploy a stack: Error response from daemon: no space left on device/);
  });

  it("a stack this run created that never gets healthy: nothing to roll back to, and it says so", async () => {
    fake.directusPlays.set(NEW, { states: [{ Status: "exited", ExitCode: 1 }], logs: startupLines("1/5") });
    const error = (await rolloutToPortainer(target, renderPortainerStack(input(NEW)), gate).catch((e: Error) => e)) as RolloutError;
    expect(error.message).toMatch(/step 1\/5 pre-schema migrations.*The stack trm-directus was created by this run: there is no earlier version to roll back to/);
  });
});

describe("reading Docker through the proxy", () => {
  it("demultiplexes Docker's log stream (8-byte frame headers, stdout and stderr in the order written)", () => {
    const raw = Buffer.concat([multiplex(["[trm-startup] ==> 1/5 pre"], 1), multiplex(["boom"], 2), multiplex(["[trm-startup] FAILED at step 1/5 pre (exit 1): x"], 1)]);
    expect(demultiplex(raw)).toBe("[trm-startup] ==> 1/5 pre\nboom\n[trm-startup] FAILED at step 1/5 pre (exit 1): x\n");
  });

  it.each([
    { lines: startupLines("1/5"), step: "start-up failed at step 1/5 pre-schema migrations (exit 1)" },
    { lines: startupLines("3/5"), step: "start-up failed at step 3/5 schema (exit 3)" },
    { lines: startupLines(), step: "the last start-up step it reached was 5/5 starting Directus (pm2-runtime start ecosystem.config.cjs)" },
    { lines: ["exec format error"], step: "its logs show no start-up step" },
  ])("names the start-up step: $step", ({ lines, step }) => {
    expect(describeStartupStep(lines)).toBe(step);
  });
});

describe("the redeploy's seed through publicUrl (a real Directus 11.17.4) and the promotion to prod", () => {
  let pg: TestPostgres;
  let directus: DirectusWithSchema;
  let fake: FakePortainer;
  const lines: string[] = [];
  const writes: string[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    directus = await startDirectusWithSchema(pg);
    fake = new FakePortainer();
    fake.registry.add(GOOD).add(NEW).add(DB_IMAGE);
    await fake.start();
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "stage-host");
    fake.connectEnvironment(2, "prod-host");
  });
  afterAll(async () => {
    await fake?.stop();
    await directus?.directus.stop();
    await pg?.stop();
  });

  /** Every non-GET request to Directus, but logins: the proof of "0 writes". */
  const counting: typeof fetch = async (url, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const text = String(url instanceof Request ? url.url : url);
    if (text.startsWith(directus.directus.url) && method !== "GET" && !text.includes("/auth/")) writes.push(`${method} ${new URL(text).pathname}`);
    return fetch(url, init);
  };

  function deps(stack: string, publicUrl = directus.directus.url): RedeployDeps {
    return {
      digestOf: (image) => (image === `${REPOSITORY}:sha1` ? GOOD : undefined),
      readConfig: async () => ({
        ...teamSettings(stack),
        adminEmail: directus.directus.adminEmail,
        // the clone's generated secrets: the Portainer stack's own (its admin's password) are kept
        adminPassword: "Generated-9x7q-unused",
        dbPassword: "generated-db-password",
        directusKey: "k".repeat(40),
        directusSecret: "s".repeat(40),
        publicUrl,
      }),
      fetchImpl: counting,
      log: (line) => void lines.push(line),
      healthTimeoutMs: 2_000,
      pollMs: 10,
    };
  }

  /** The Portainer stack stage already runs, holding the admin credentials its Directus was bootstrapped with. */
  function existingStack(endpointId: number, name: string): PortainerStack {
    const stack = renderPortainerStack(input(GOOD, directus.directus.adminPassword));
    fake.addStack({ Name: name, Type: COMPOSE, EndpointId: endpointId, Env: stack.env, GitConfig: null, compose: stack.compose });
    return stack;
  }

  const target = (endpointId: number, stackName = "trm-directus") => ({ url: fake.url, apiKey: fake.createAccessToken(), endpointId, stackName });

  it("seeds stage after a healthy rollout with the admin login the stack holds; the next redeploy writes nothing; hand-made items untouched", async () => {
    existingStack(1, "trm-directus");
    await redeploy(`${REPOSITORY}:sha1`, "stage", { api: target(1) }, deps("stage"));
    const first = [...writes];
    const declared = Object.values(loadSeedFile(SEED_FILE)).reduce((n, items) => n + Object.keys(items).length, 0);
    expect(lines.find((l) => l.startsWith("seeded"))).toBe(
      `seeded ${SEED_FILE} into ${directus.directus.url}: ${declared} created, 0 updated, ${first.length} write request(s); nothing deleted (see docs/delivery.md)`,
    );
    const client = await directus.client();
    const handMade = await client.request(createItem("classes", { code: "HANDMADE", name: "Made by hand", event_id: (await client.request(readItems("events", { limit: 1 })))[0].id }));

    writes.length = 0;
    lines.length = 0;
    await redeploy(`${REPOSITORY}:sha1`, "stage", { api: target(1) }, deps("stage"));

    expect(first.length).toBeGreaterThan(0);
    expect(lines.find((l) => l.startsWith("seeded"))).toMatch(/^seeded .*rally-albania-2026\.yaml into http:\/\/127\.0\.0\.1:\d+: 0 created, 0 updated, 0 write request\(s\); nothing deleted/);
    expect(writes).toEqual([]);
    expect(await client.request(readItems("classes", { filter: { code: { _eq: "HANDMADE" } } }))).toEqual([expect.objectContaining({ id: handMade.id, name: "Made by hand" })]);
    for (const line of lines) expect(line).not.toContain(directus.directus.adminPassword);
  });

  it("says when the runner cannot reach stage's Directus, naming publicUrl", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(redeploy(`${REPOSITORY}:sha1`, "stage", { api: target(1) }, deps("stage", closed))).rejects.toThrow(
      new RegExp(`seeding stage: this runner cannot reach Directus at ${closed} \\(ECONNREFUSED\\): set publicUrl in Pulumi\\.stage\\.yaml`),
    );
  });

  it("promotes to prod the exact digest stage runs healthy (no build), through the same gate and seed", async () => {
    existingStack(2, "trm-directus-prod");
    lines.length = 0;
    const result = await promote("prod", target(1), target(2, "trm-directus-prod"), { ...deps("prod"), digestOf: () => undefined });
    expect(result).toMatchObject({ action: "updated", image: GOOD, name: "trm-directus-prod" });
    expect(lines[0]).toMatch(/^stage's stack trm-directus runs Directus .*@sha256:a+, healthy: promoting it to prod$/);
    const prod = fake.stacks.find((s) => s.EndpointId === 2)!;
    expect(parse(prod.compose).services.directus.image).toBe(GOOD);
    expect(lines).toContainEqual(expect.stringMatching(/^seeded .*: 0 created, 0 updated/));
  });

  it("refuses prod settings that name stage's own stack", async () => {
    await expect(promote("prod", target(1), target(1), deps("prod"))).rejects.toThrow(/--promote: prod's Portainer settings name stage's own stack .*: set PROD_PORTAINER_\* to prod's/);
  });

  it("refuses to promote what stage does not run healthy", async () => {
    fake.directusPlays.set(NEW, { states: [{ Status: "exited", ExitCode: 1 }], logs: startupLines("1/5") });
    const stage = fake.stacks.find((s) => s.EndpointId === 1)!;
    stage.compose = renderPortainerStack(input(NEW)).compose;
    fake.containers.find((c) => c.project === "trm-directus" && c.service === "directus")!.image = NEW;
    fake.containers.find((c) => c.project === "trm-directus" && c.service === "directus")!.play = fake.directusPlays.get(NEW)!;
    await expect(promote("prod", target(1), target(2, "trm-directus-prod"), deps("prod"))).rejects.toThrow(
      /stack trm-directus's Directus .*@sha256:b+ is not healthy \(it exited with code 1\): nothing promoted/,
    );
  });
});
