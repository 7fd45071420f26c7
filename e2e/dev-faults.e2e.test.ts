/**
 * The fault matrix of `npm run dev`: each everyday accident of a dev machine, then one `npm run dev`,
 * which must end "ready" (database answers, Directus healthy, the seed reads back) with the smoke
 * check green; where the volumes survived, an item made by hand survives too. Recovery time per
 * fault is printed and written to bench/results/dev-faults.json.
 * Needs the docker, postgresql and command plugins (npm run test:e2e:faults skips with one line
 * otherwise); runs in a project copy, stack `faults` (the ci config with retainVolumes, as dev has it:
 * `dev:down` keeps the data; free ports). A lost state (`git clean -fdx`) and a second clone are a
 * new state of the project copy, or a second copy, on the same stack: they adopt its Docker objects.
 */
import { createItem, readItems } from "@directus/sdk";
import { randomUUID } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/directus-client";
import { docker, dockerOrThrow } from "../scripts/lib/docker";
import { readOutputs } from "../scripts/lib/stack";
import { cloneState, engineRun, engineStack, printed, projectCopy, seconds, startNpm, type EngineStack } from "./support";

const STACK = "faults";
const log = (line: string) => console.log(`faults: ${line}`);
const recovery: Record<string, number> = {};
const names = { db: `trm-${STACK}-db`, directus: `trm-${STACK}-directus`, net: `trm-${STACK}-net`, data: `trm-${STACK}-pgdata`, uploads: `trm-${STACK}-uploads` };

let target: EngineStack;

async function admin() {
  const outputs = await readOutputs(target.stack);
  return connectDirectus(outputs.directusUrl, { email: outputs.adminEmail, password: target.secrets.adminPassword });
}

/** One `npm run dev`, timed as the recovery from `fault`; it must end ready, with the smoke check green. */
async function recoversFrom(fault: string): Promise<string> {
  const started = Date.now();
  const run = await startNpm(target, "dev", [STACK]).finished;
  recovery[fault] = seconds(started);
  const output = run.stdout + run.stderr;
  expect(run.code, output).toBe(0);
  expect(output).toContain("dev: ready: Directus at");
  const smoke = spawnSync("npm", ["run", "--silent", "stack", "--", "smoke"], { cwd: target.project, env: { ...target.env, TRM_STACK: STACK }, encoding: "utf8" });
  expect(smoke.stdout + smoke.stderr).toContain("smoke: all checks passed");
  return output;
}

/** Ctrl-C in the terminal (SIGINT to the whole foreground group) once the output shows `moment`. */
async function interruptFirstUpAt(moment: RegExp): Promise<void> {
  await engineRun(target, "destroy").catch(() => undefined); // a first up: nothing there
  const running = startNpm(target, "dev", [STACK]);
  await printed(running, moment);
  running.signal("SIGINT");
  const { code, stdout, stderr } = await running.finished;
  expect(code, stdout + stderr).not.toBe(0);
  expect(stdout + stderr).toContain("interrupted: letting the steps in flight finish");
}

async function makeByHand(code: string): Promise<void> {
  const client = await admin();
  const [event] = (await client.request(readItems("events", { fields: ["id"], limit: 1 }))) as { id: string }[];
  await client.request(createItem("classes", { event_id: event.id, code, name: "made by hand", sort_order: 990 }));
}

async function stillThere(code: string): Promise<boolean> {
  const rows = await (await admin()).request(readItems("classes", { filter: { code: { _eq: code } }, fields: ["id"] }));
  return rows.length === 1;
}

/** What `git clean -fdx` takes from a clone that matters here: .pulumi-state (state, passphrase, its stack file and secrets). */
async function gitCleanFdx(): Promise<void> {
  rmSync(path.join(target.project, ".pulumi-state"), { recursive: true, force: true });
  target = await cloneState(STACK, target.project, target.pulumi);
}

beforeAll(async () => {
  target = await engineStack(STACK, { retainVolumes: "true" }, log);
}, 60 * 60_000);

afterAll(async () => {
  if (target) await engineRun(target, "destroy").catch((error: Error) => log(`destroy after the suite: ${error.message}`));
  for (const volume of [names.data, names.uploads]) docker(["volume", "rm", volume]); // retained on destroy
  log(`recovery times (s): ${JSON.stringify(recovery)}`);
  const out = path.join(__dirname, "..", "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "dev-faults.json"), JSON.stringify({ date: new Date().toISOString(), recoverySeconds: recovery }, null, 2) + "\n");
});

describe("npm run dev converges after", () => {
  it("Ctrl-C while the database container is created (first up)", async () => {
    await interruptFirstUpAt(/database-container creating/);
    await recoversFrom("Ctrl-C while the database is created");
  });

  it("Ctrl-C while the Directus container is created (first up)", async () => {
    await interruptFirstUpAt(/directus-container creating/);
    await recoversFrom("Ctrl-C while Directus is created");
  });

  it("Ctrl-C while the seed is created (first up)", async () => {
    await interruptFirstUpAt(/seed creating/);
    await recoversFrom("Ctrl-C while the seed is created");
    await makeByHand("X-HM");
  });

  it("SIGKILL of the engine while a container is created (it existed in Docker, not in the state)", async () => {
    dockerOrThrow(["rm", "-f", names.directus]);
    // the moment Docker has the container and the provider has not returned yet (it still starts it):
    // Docker's own create event, not the engine's output, which comes too late for a create this short
    const created = spawn("docker", ["events", "--filter", "type=container", "--filter", "event=create", "--filter", `container=${names.directus}`, "--format", "{{.ID}}"]);
    const createdAt = new Promise<void>((resolve) => created.stdout.once("data", () => resolve()));
    const running = startNpm(target, "dev", [STACK]);
    try {
      await createdAt;
      const engine = spawnSync("pgrep", ["-g", String(running.pid), "-x", "pulumi"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
      expect(engine, running.output()).toMatch(/^\d+$/);
      process.kill(Number(engine), "SIGKILL");
    } finally {
      created.kill();
    }
    await running.finished;
    const output = await recoversFrom("SIGKILL of the engine while a container is created");
    expect(output).toContain("released the lock of a run that no longer exists");
    expect(output).toMatch(/dropped the pending create of directus-container|removed trm-faults-directus/);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("the Directus container removed", async () => {
    dockerOrThrow(["rm", "-f", names.directus]);
    const output = await recoversFrom("Directus container removed");
    expect(output).toContain(`missing in Docker: ${names.directus}`);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("the database container removed", async () => {
    dockerOrThrow(["rm", "-f", names.db]);
    const output = await recoversFrom("database container removed");
    expect(output).toContain(`missing in Docker: ${names.db}`);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("the network removed", async () => {
    for (const container of [names.directus, names.db]) docker(["network", "disconnect", "--force", names.net, container]);
    dockerOrThrow(["network", "rm", names.net]);
    const output = await recoversFrom("network removed");
    expect(output).toContain(`missing in Docker: ${names.net}`);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("a container stopped", async () => {
    dockerOrThrow(["stop", names.directus]);
    const output = await recoversFrom("Directus container stopped");
    expect(output).toContain(`started ${names.directus}: it was stopped`);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("the data volume removed: said loudly, a fresh database migrated and seeded again", async () => {
    dockerOrThrow(["rm", "-f", names.db]);
    dockerOrThrow(["volume", "rm", names.data]);
    const output = await recoversFrom("data volume removed");
    expect(output).toContain("!! DATA LOST: the database's data volume is gone");
    expect(await stillThere("X-HM")).toBe(false);
    await makeByHand("X-HM");
  });

  it("the Docker daemon restarted", async () => {
    const pid = spawnSync("pidof", ["dockerd"], { encoding: "utf8" }).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    process.kill(Number(pid), "SIGTERM");
    for (let i = 0; i < 60 && spawnSync("pidof", ["dockerd"]).status === 0; i++) spawnSync("sleep", ["1"]);
    expect(spawnSync("bash", ["offline/docker-engine.sh"], { cwd: target.project }).status).toBe(0);
    await recoversFrom("Docker daemon restarted");
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("a stale lock", async () => {
    const dir = path.join(target.project, ".pulumi-state", ".pulumi", "locks", "organization", "trm-directus", STACK);
    mkdirSync(dir, { recursive: true });
    const dead = spawnSync("true").pid!;
    writeFileSync(path.join(dir, `${randomUUID()}.json`), JSON.stringify({ pid: dead, username: os.userInfo().username, hostname: os.hostname(), timestamp: new Date().toISOString() }));
    const output = await recoversFrom("stale lock");
    expect(output).toContain(`released the lock of a run that no longer exists (pid ${dead},`);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("git clean -fdx with the stack running: the new state adopts the stack, its data kept", async () => {
    await gitCleanFdx();
    const output = await recoversFrom("git clean -fdx with the stack running");
    expect(output).toContain(`found ${names.directus}, ${names.db}, ${names.net}, ${names.data}, ${names.uploads} in Docker, not made by this clone's state`);
    expect(output).toContain(`adopted: volumes ${names.data}, ${names.uploads} kept with their data`);
    expect(output).toContain("reset: the password of database user directus (now this clone's dbPassword)");
    expect(output).toContain("reset: the password of Directus admin ci@trm.dev (now this clone's adminPassword)");
    expect(output).not.toContain(target.secrets.dbPassword);
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("git clean -fdx after dev:down: the new state adopts the kept volumes", async () => {
    const down = await startNpm(target, "dev:down", [STACK]).finished;
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(docker(["volume", "inspect", names.data]).ok).toBe(true);
    await gitCleanFdx();
    const output = await recoversFrom("git clean -fdx after dev:down");
    expect(output).toContain(`found ${names.data}, ${names.uploads} in Docker, not made by this clone's state`);
    expect(output).toContain("reset: the password of Directus admin ci@trm.dev (now this clone's adminPassword)");
    expect(await stillThere("X-HM")).toBe(true);
  });

  it("a second clone adopts the machine's stack; the first clone takes it back the same way", async () => {
    const first = target;
    const project = projectCopy();
    const teamFile = `Pulumi.${STACK}.yaml`; // written into the first copy by engineStack: the team's settings
    cpSync(path.join(first.project, teamFile), path.join(project, teamFile));
    target = await cloneState(STACK, project, first.pulumi);
    const second = await recoversFrom("a second clone");
    expect(second).toContain(`found ${names.directus}, ${names.db}, ${names.net}, ${names.data}, ${names.uploads} in Docker, not made by this clone's state`);
    expect(await stillThere("X-HM")).toBe(true);
    target = first;
    const back = await recoversFrom("the first clone again");
    expect(back).toContain(`found ${names.directus}, ${names.db}, ${names.net} in Docker, not made by this clone's state`);
    expect(await stillThere("X-HM")).toBe(true);
  });
});
