/**
 * The health-gated redeploy against real containers: the fake of Portainer CE 2.23
 * (test/support/fake-portainer.ts) applies each stack create/update with the real docker compose
 * v2.29.2 (scripts/ci-tools.sh builds it) and proxies Docker API calls to the local daemon, as
 * Portainer does. `npm run portainer:stack -- --redeploy`'s flow (scripts/portainer-stack.ts) deploys
 * the project's Directus image, healthy, and seeds it through publicUrl; a second redeploy writes
 * nothing; then an image whose start-up fails at step 1/5 is rolled back to the good one, healthy.
 * Needs Docker and the images (the stand-ins where no registry answers): it fails without them.
 * Everything it starts is named trm-e2e-rollout-* and removed afterwards.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_IMAGE } from "../lib/stack-config";
import { freePort } from "../lib/free-port";
import { RolloutError } from "../lib/portainer";
import { redeploy, type RedeployDeps } from "../scripts/portainer-stack";
import { teamSettings } from "../scripts/render-portainer-compose";
import { FakePortainer } from "../test/support/fake-portainer";
import { projectCopy, run, seconds } from "./support";

const PREFIX = "trm-e2e-rollout";
const GOOD = `${PREFIX}-directus:good`;
const BROKEN = `${PREFIX}-directus:broken-step1`;
const STACK = `${PREFIX}-rollout`;

let fake: FakePortainer;
let workDir: string;
let project: string;
let directusPort: number;
const lines: string[] = [];
const writes: string[] = [];
const timings: Record<string, number> = {};

function requireDocker(): void {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8" });
  if (info.status !== 0) throw new Error(`this suite needs a running Docker daemon (bash offline/docker-engine.sh starts one): ${info.stderr || info.error?.message}`);
  const db = spawnSync("docker", ["image", "inspect", DEFAULT_DATABASE_IMAGE], { stdio: "ignore" });
  if (db.status !== 0) throw new Error(`this suite needs ${DEFAULT_DATABASE_IMAGE} (where no registry answers: bash offline/standins/build.sh)`);
}

/** The project's image, and one FROM it whose pre-schema migrations fail (start-up step 1/5). */
function buildImages(): void {
  project = projectCopy();
  run("npm", ["run", "--silent", "build:image"], { cwd: project });
  run("docker", ["build", "-q", "-t", GOOD, "."], { cwd: project, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  const broken = mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-broken-`));
  writeFileSync(path.join(broken, "999_broken.sql"), "SELECT * FROM trm_rollout_no_such_table;\n");
  writeFileSync(path.join(broken, "Dockerfile"), `FROM ${GOOD}\nCOPY --chown=node:node 999_broken.sql /directus/trm/db-init/999_broken.sql\n`);
  run("docker", ["build", "-q", "-t", BROKEN, "."], { cwd: broken, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  rmSync(broken, { recursive: true, force: true });
}

/** Every non-GET request to Directus but logins: the proof of "0 writes". */
const counting: typeof fetch = async (url, init) => {
  const method = (init?.method ?? "GET").toUpperCase();
  const text = String(url instanceof Request ? url.url : url);
  if (text.startsWith(`http://127.0.0.1:${directusPort}`) && method !== "GET" && !text.includes("/auth/")) writes.push(`${method} ${new URL(text).pathname}`);
  return fetch(url, init);
};

const settings = () => ({ api: { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: STACK } });

function deps(): RedeployDeps {
  return {
    // local images stand for pushed ones: Config.Image is what the gate compares, tag or digest
    digestOf: (image) => image,
    readConfig: async (stack) => ({
      ...teamSettings(stack),
      adminPassword: "Rally-e2e-Xy7q-2026",
      dbPassword: "trm-e2e-db-password",
      directusKey: "trm-e2e-key-".padEnd(40, "k"),
      directusSecret: "trm-e2e-secret-".padEnd(40, "s"),
      directusPort: String(directusPort),
      publicUrl: `http://127.0.0.1:${directusPort}`,
    }),
    fetchImpl: counting,
    log: (line) => {
      lines.push(line);
      console.log(`portainer: ${line}`);
    },
    healthTimeoutMs: 600_000,
    pollMs: 2_000,
  };
}

const directusContainers = () =>
  execFileSync("docker", ["ps", "-a", "--filter", `label=com.docker.compose.project=${STACK}`, "--filter", "label=com.docker.compose.service=directus", "--format", "{{.Image}} {{.Status}}"], { encoding: "utf8" }).trim().split("\n");

beforeAll(async () => {
  requireDocker();
  const started = Date.now();
  buildImages();
  timings.imageBuilds = seconds(started);
  const composeBin = execFileSync("bash", ["scripts/ci-tools.sh"], { encoding: "utf8" }).trim().split("\n").at(-1)!;
  workDir = mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-portainer-`));
  fake = new FakePortainer({ composeBin, workDir });
  await fake.start();
  fake.initialiseAdmin();
  fake.connectEnvironment(1, "local");
  directusPort = await freePort();
}, 30 * 60_000);

afterAll(async () => {
  fake?.tearDown();
  await fake?.stop();
  spawnSync("docker", ["image", "rm", BROKEN, GOOD], { stdio: "ignore" });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  if (project) rmSync(project, { recursive: true, force: true });
  console.log(`portainer rollout e2e timings (s): ${JSON.stringify(timings)}`);
});

describe("the health-gated redeploy against real containers (docker compose v2.29.2 behind the Portainer fake)", () => {
  it("creates the stack with the good image, waits until Directus is healthy, and seeds it through publicUrl", async () => {
    const result = await redeploy(GOOD, "stage", settings(), deps());
    expect(result).toMatchObject({ action: "created", image: GOOD });
    timings.createAccepted = result!.acceptedMs / 1000;
    timings.createHealthy = result!.healthyMs / 1000;
    expect(directusContainers()).toEqual([expect.stringMatching(new RegExp(`^${GOOD} Up .*\\(healthy\\)$`))]);
    expect(lines.find((l) => l.startsWith("seeded"))).toMatch(/: 38 created, 0 updated, \d+ write request\(s\)/);
  });

  it("a second redeploy of the same image writes nothing", async () => {
    lines.length = 0;
    writes.length = 0;
    const result = await redeploy(GOOD, "stage", settings(), deps());
    expect(result).toMatchObject({ action: "updated", image: GOOD, keptSecrets: expect.arrayContaining(["ADMIN_PASSWORD"]) });
    expect(lines.find((l) => l.startsWith("seeded"))).toMatch(/: 0 created, 0 updated, 0 write request\(s\)/);
    expect(writes).toEqual([]);
  });

  it("an image whose start-up fails at step 1/5: its log lines printed, rolled back to the good image, healthy; the step fails naming both", async () => {
    lines.length = 0;
    const started = Date.now();
    const error = (await redeploy(BROKEN, "stage", settings(), deps()).catch((e: Error) => e)) as RolloutError;
    timings.brokenRolledBack = seconds(started);
    expect(error).toBeInstanceOf(RolloutError);
    expect(error.rolledBack).toBe(true);
    expect(error.message).toMatch(new RegExp(`^Directus ${BROKEN} did not become healthy \\(.*\\); start-up failed at step 1/5 pre-schema migrations \\(exit \\d+\\)`));
    expect(error.message).toMatch(new RegExp(`Rolled back: stack ${STACK} runs Directus ${GOOD} again, healthy$`));
    expect(lines).toContainEqual(expect.stringContaining("[trm-startup] FAILED at step 1/5 pre-schema migrations"));
    expect(lines).toContainEqual(expect.stringContaining("trm_rollout_no_such_table"));
    expect(directusContainers()).toEqual([expect.stringMatching(new RegExp(`^${GOOD} Up .*\\(healthy\\)$`))]);
    const accepted = /accepted the update of .* in ([\d.]+) s/.exec(lines.join("\n"));
    const rolledBack = /rolled back: Directus .* healthy ([\d.]+) s after the rollback started/.exec(lines.join("\n"));
    timings.brokenAccepted = Number(accepted?.[1]);
    timings.rollbackHealthy = Number(rolledBack?.[1]);
    console.log(`rollout failure as reported: ${error.message}`);
  });
});
