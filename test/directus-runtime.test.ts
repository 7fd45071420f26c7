/**
 * The Directus 11.17.4 runtime (tools/directus-runtime): cached install laid out like the upstream
 * image's /directus, Node 22 with a matching isolated-vm, and a server that starts, restarts and stops.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDirectusRuntime, freePort, startDirectus, withInstallLock, type DirectusRuntime, type RunningDirectus } from "../tools/directus-runtime/index";
import { runProcess } from "./support/cli";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

let runtime: DirectusRuntime;
let pg: TestPostgres;

beforeAll(async () => {
  [runtime, pg] = await Promise.all([ensureDirectusRuntime(), startPostgres()]);
}, 15 * 60_000); // the first run on a machine installs the runtime here (~3-4 min)

afterAll(async () => {
  await pg?.stop();
});

describe("ensureDirectusRuntime", () => {
  it("reuses one cached install outside the repository, whoever asks", async () => {
    const started = Date.now();
    const again = await Promise.all([ensureDirectusRuntime(), ensureDirectusRuntime()]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(again).toEqual([runtime, runtime]);
    expect(runtime.dir).toMatch(/[/]directus-runtime-[0-9a-f]{16}$/);
    expect(runtime.dir.startsWith(path.resolve(__dirname, ".."))).toBe(false);
  });

  it("is laid out like the image's /directus", async () => {
    for (const entry of ["cli.js", "ecosystem.config.cjs", "uploads", "extensions", "node_modules/.bin/pm2-runtime", "node_modules/directus/package.json"]) {
      expect(existsSync(path.join(runtime.dir, entry)), entry).toBe(true);
    }
    const ecosystem = await readFile(path.join(runtime.dir, "ecosystem.config.cjs"), "utf8");
    expect(ecosystem).toContain("script: 'cli.js'");
    expect(ecosystem).toContain("args: ['start']");
    expect(JSON.parse(await readFile(path.join(runtime.dir, "node_modules/directus/package.json"), "utf8")).version).toBe("11.17.4");
    expect(JSON.parse(await readFile(path.join(runtime.dir, "node_modules/pm2/package.json"), "utf8")).version).toBe("5.4.3");
  });

  it("runs Node 22 with isolated-vm built for it", async () => {
    const result = await runProcess(runtime.nodeBin, ["-p", "process.version + ' ' + process.versions.modules + ' ' + typeof require('isolated-vm').Isolate"], {}, runtime.dir);
    expect(result.stdout.trim()).toBe("v22.23.3 127 function");
    expect(runtime.binDir.split(path.delimiter)[0]).toBe(path.dirname(runtime.nodeBin));
  });
});

describe("the install lock", () => {
  it("lets one holder in at a time and takes over a lock whose owner died", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "trm-lock-"));
    const lock = path.join(dir, "x.lock");
    const events: string[] = [];
    const holder = (name: string) => withInstallLock(lock, async () => {
      events.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push(`${name} out`);
    });
    await Promise.all([holder("a"), holder("b")]);
    expect(events).toEqual([events[0], events[0].replace(" in", " out"), events[2], events[2].replace(" in", " out")]);

    await mkdir(lock);
    await writeFile(path.join(lock, "owner"), `2147483646 ${os.hostname()}\n`); // no such process
    const started = Date.now();
    await holder("c");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(existsSync(lock)).toBe(false);
  });
});

describe("startDirectus", () => {
  let directus: RunningDirectus;

  beforeAll(async () => {
    directus = await startDirectus({ db: await pg.createDatabase("runtime") });
  });

  afterAll(async () => {
    await directus?.stop();
  });

  it("serves /server/health with a random admin, KEY and SECRET, telemetry off", async () => {
    expect(await (await fetch(`${directus.url}/server/health`)).json()).toMatchObject({ status: "ok" });
    expect(directus.adminPassword).toMatch(/^[\w-]{16}$/);
    expect(directus.env).toMatchObject({ TELEMETRY: "false", PUBLIC_URL: directus.url, DB_CLIENT: "pg", ADMIN_EMAIL: directus.adminEmail });
    expect(directus.env.KEY).toMatch(/^[0-9a-f]{48}$/);
    expect(directus.env.SECRET).toMatch(/^[0-9a-f]{64}$/);
    const login = await fetch(`${directus.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: directus.adminEmail, password: directus.adminPassword }),
    });
    expect(login.status).toBe(200);
  });

  it("runs the CLI with Node 22 and without the update banner", async () => {
    const result = await directus.cli(["--version"]);
    expect(result).toEqual({ code: 0, output: "11.17.4\n" });
  });

  it("restarts on the same URL and stops cleanly", async () => {
    await directus.restart();
    expect(await (await fetch(`${directus.url}/server/health`)).json()).toMatchObject({ status: "ok" });
    const started = Date.now();
    await directus.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(fetch(`${directus.url}/server/health`)).rejects.toThrow();
    await directus.stop(); // idempotent
  });

  it("refuses to report healthy when someone else owns the port", async () => {
    const port = await freePort();
    // Healthy-looking, but it does not know our admin.
    const squatter = createServer((req, res) => {
      res.statusCode = req.url === "/server/health" ? 200 : 401;
      res.end('{"status":"ok"}');
    }).listen(port, "127.0.0.1");
    try {
      await expect(startDirectus({ db: await pg.createDatabase("squat"), port })).rejects.toThrow(/before it was healthy|not our Directus/);
    } finally {
      squatter.close();
    }
  });
});

describe("the image's CMD: pm2-runtime start ecosystem.config.cjs", () => {
  it("serves Directus under pm2 and stops on SIGTERM", async () => {
    const db = await pg.createDatabase("pm2");
    const bootstrapped = await startDirectus({ db });
    await bootstrapped.stop();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...bootstrapped.env, PORT: String(port), PUBLIC_URL: url, PM2_HOME: await mkdtemp(path.join(os.tmpdir(), "trm-pm2-")) };
    const child = spawn(path.join(runtime.dir, "node_modules/.bin/pm2-runtime"), ["start", "ecosystem.config.cjs"], { cwd: runtime.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      let health: unknown = null;
      for (let i = 0; i < 240 && health === null; i++) {
        health = await fetch(`${url}/server/health`).then((r) => r.json(), () => null);
        if (health === null) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(health, output).toMatchObject({ status: "ok" });
      expect(output).toMatch(/PM2 log: App \[directus:0\] online/);
    } finally {
      child.kill("SIGTERM");
    }
    await exited;
    await expect(fetch(`${url}/server/health`)).rejects.toThrow();
  });
});
