/**
 * The scripts' way into Pulumi (scripts/lib): how `npm run dev` gets its CLI, with the installer
 * injected (a machine with internet and Docker needs nothing but Node: the CLI is downloaded;
 * offline machines build it from the Go module proxy), the provider plugins (installed, downloaded, or
 * a clear stop), the program loaded as a function, the state backend and passphrase, failure messages.
 */
import { CommandError, PulumiCommand, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { allInPluginCache, ensurePlugins, MissingPluginsError, missingPlugins, requiredPlugins, type Plugin } from "../scripts/lib/plugins";
import { findPulumi, pulumiCacheRoot, type PulumiSources } from "../scripts/lib/pulumi-cli";
import { dockerObjectsOf, isAlive, newestBackup, readCheckpoint, readLocks, releaseStaleLocks, stackOutputsIn, stopOrphanedPlugins } from "../scripts/lib/recover";
import { findLeftovers, recordedObjects, stackDockerNames, type RecordedObjects } from "../scripts/lib/adopt";
import { setAsideCommand } from "../scripts/lib/kept-database";
import { operationCli, runOperation } from "../scripts/lib/operations";
import { describeFailure, loadProgram, pulumiEnv, REPO_ROOT, revealSecrets, stackConfigFile } from "../scripts/lib/stack";
import { copiedRecordFile, planTeamSettings, syncTeamSettings } from "../scripts/lib/team-settings";

const cli = (name: string) => ({ command: name }) as unknown as PulumiCommand;

function sources(have: { path?: boolean; cache?: boolean; built?: boolean; internet?: boolean }) {
  const calls: string[] = [];
  const fake: PulumiSources = {
    onPath: async () => (calls.push("onPath"), have.path ? cli("path") : undefined),
    installed: async (root) => (calls.push(`installed ${root}`), have.cache ? cli("cache") : undefined),
    builtBefore: async () => (calls.push("builtBefore"), have.built ? cli("built") : undefined),
    download: async (root, version) => {
      calls.push(`download ${root} ${version}`);
      if (!have.internet) throw new Error("getaddrinfo ENOTFOUND get.pulumi.com");
      return cli("downloaded");
    },
    buildOffline: async () => (calls.push("buildOffline"), cli("offline")),
  };
  return { fake, calls };
}

describe("findPulumi", () => {
  const root = pulumiCacheRoot("3.276.0");
  const quiet = () => undefined;

  it("uses a pulumi on PATH and touches nothing else", async () => {
    const { fake, calls } = sources({ path: true, internet: true });
    expect(await findPulumi("3.276.0", fake, quiet)).toMatchObject({ source: "path", offline: false });
    expect(calls).toEqual(["onPath"]);
  });

  it("uses a CLI installed into the cache before", async () => {
    const { fake, calls } = sources({ cache: true });
    expect(await findPulumi("3.276.0", fake, quiet)).toMatchObject({ source: "cache", offline: false });
    expect(calls).toEqual(["onPath", `installed ${root}`]);
  });

  it("uses the CLI built from the Go module proxy on an earlier run, quietly, without trying the download again", async () => {
    const { fake, calls } = sources({ built: true });
    const lines: string[] = [];
    expect(await findPulumi("3.276.0", fake, (l) => lines.push(l))).toMatchObject({ source: "built", offline: false });
    expect(calls).toEqual(["onPath", `installed ${root}`, "builtBefore"]);
    expect(lines).toEqual([]);
  });

  it("downloads the pinned version into the cache on a machine with internet (plugins then download on first use)", async () => {
    const { fake, calls } = sources({ internet: true });
    const found = await findPulumi("3.276.0", fake, quiet);
    expect(found).toMatchObject({ source: "download", offline: false });
    expect(found.command.command).toBe("downloaded");
    expect(calls).toEqual(["onPath", `installed ${root}`, "builtBefore", `download ${root} 3.276.0`]);
  });

  it("builds the CLI from the Go module proxy when the download site cannot be reached, and says so", async () => {
    const { fake, calls } = sources({});
    const lines: string[] = [];
    const found = await findPulumi("3.276.0", fake, (line) => lines.push(line));
    expect(found).toMatchObject({ source: "offline", offline: true });
    expect(calls.at(-1)).toBe("buildOffline");
    expect(lines.join("\n")).toMatch(/cannot download the Pulumi CLI \(getaddrinfo ENOTFOUND get\.pulumi\.com\)[\s\S]*building the Pulumi CLI from the Go module proxy/);
  });

  it("keeps the cache outside the repository", () => {
    expect(path.basename(root)).toBe("pulumi-3.276.0");
    expect(root.startsWith(process.cwd())).toBe(false);
  });
});

describe("describeFailure", () => {
  it("keeps a failed pulumi command to its error lines (the rest was streamed already)", () => {
    const failed = Object.assign(Object.create(CommandError.prototype), {
      message: "code: 255\n stdout: Updating (dev)...\n stderr: error: update failed\nerror: update failed\n  error: docker: port is already allocated",
    });
    expect(describeFailure(failed)).toBe("pulumi failed (output above): update failed; docker: port is already allocated");
  });

  it("passes other errors' messages on", () => {
    expect(describeFailure(new Error("no Docker daemon answers"))).toBe("no Docker daemon answers");
  });
});

describe("operations (scripts/lib/operations.ts)", () => {
  type Run = (args: string[]) => Promise<{ stdout: string }>;

  /** A stack whose `up` calls the CLI as the pinned Automation API does: the operation, then outputs (masked, plain) and history. */
  function stackOn(run: Run) {
    const calls: string[][] = [];
    const cli = operationCli({ command: "pulumi", version: null, run: (args: string[]) => (calls.push(args), run(args)) } as unknown as PulumiCommand);
    const runCli = (args: string[]) => (cli as unknown as { run: Run }).run(args);
    const stack = {
      workspace: { pulumiCommand: cli },
      async up(options: { onEvent: (event: EngineEvent) => void }) {
        await runCli(["up", "--yes", "--skip-preview"]);
        options.onEvent({ sequence: 1, timestamp: 0, summaryEvent: { resourceChanges: { create: 3, same: 1 } } } as unknown as EngineEvent);
        const outputs = [await runCli(["stack", "output", "--json"]), await runCli(["stack", "output", "--json", "--show-secrets"])];
        return { outputs, summary: await runCli(["stack", "history", "--json"]) };
      },
    } as unknown as Stack;
    return { stack, calls, runCli };
  }

  it("hooks the CLI that the pinned SDK runs (PulumiCommand's internal run: an SDK without it would only be slower)", () => {
    expect(typeof (PulumiCommand.prototype as unknown as { run?: unknown }).run).toBe("function");
  });

  it("takes the change counts from the engine's summary and leaves out the three follow-up CLI calls", async () => {
    const { stack, calls, runCli } = stackOn(async () => ({ stdout: "{}" }));
    expect(await runOperation(stack, "up")).toEqual({ changeSummary: { create: 3, same: 1 } });
    expect(calls).toEqual([["up", "--yes", "--skip-preview"]]);
    // outside an operation, the same queries reach the CLI
    await runCli(["stack", "output", "--json"]);
    expect(calls.at(-1)).toEqual(["stack", "output", "--json"]);
  });

  it("reports a failed operation as the CLI failed it", async () => {
    const { stack, calls } = stackOn(async (args) => {
      if (args[0] === "up") throw new Error("update failed");
      return { stdout: "{}" };
    });
    await expect(runOperation(stack, "up")).rejects.toThrow("update failed");
    expect(calls).toEqual([["up", "--yes", "--skip-preview"]]);
  });
});

describe("revealSecrets", () => {
  const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) });

  it("puts each secret's plaintext in its place, however deep, as an exported state holds it", () => {
    const outputs = { directusUrl: "http://127.0.0.1:8055", portainerStack: { env: secret([{ name: "DB_PASSWORD", value: "s3cret" }]) }, list: [secret(1), 2] };
    expect(revealSecrets(outputs)).toEqual({ directusUrl: "http://127.0.0.1:8055", portainerStack: { env: [{ name: "DB_PASSWORD", value: "s3cret" }] }, list: [1, 2] });
  });

  it("refuses a secret without its plaintext (a state exported without --show-secrets)", () => {
    expect(() => revealSecrets({ env: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } })).toThrow(/without its plaintext/);
  });
});

describe("pulumiEnv", () => {
  it("defaults to a file backend in .pulumi-state/ and a generated passphrase file (0600), kept across runs", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "trm-env-"));
    const env = pulumiEnv(dir, { PATH: "/bin" });
    expect(env.PULUMI_BACKEND_URL).toBe(`file://${dir}/.pulumi-state`);
    const passphrase = env.PULUMI_CONFIG_PASSPHRASE_FILE!;
    expect(statSync(passphrase).mode & 0o777).toBe(0o600);
    expect(readFileSync(passphrase, "utf8")).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(pulumiEnv(dir, { PATH: "/bin" }).PULUMI_CONFIG_PASSPHRASE_FILE).toBe(passphrase);
    expect(readFileSync(passphrase, "utf8")).toBe(readFileSync(pulumiEnv(dir, {}).PULUMI_CONFIG_PASSPHRASE_FILE!, "utf8"));
  });

  it("creates the folder of a file:// backend it is given (the CLI refuses a missing one), and keeps a given passphrase", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "trm-env-"));
    const backend = path.join(dir, "elsewhere", "state");
    const env = pulumiEnv(dir, { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "given" });
    expect(statSync(backend).isDirectory()).toBe(true);
    expect(env.PULUMI_CONFIG_PASSPHRASE).toBe("given");
    expect(env.PULUMI_CONFIG_PASSPHRASE_FILE).toBeUndefined();
  });
});

describe("provider plugins", () => {
  const pins = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).dependencies;
  const required = requiredPlugins();

  it("are the ones the npm provider packages pin, at their versions", () => {
    expect(required).toEqual([
      { name: "docker", version: pins["@pulumi/docker"] },
      { name: "postgresql", version: pins["@pulumi/postgresql"] },
      { name: "command", version: pins["@pulumi/command"] },
    ]);
  });

  it("count as missing unless that exact version is installed", () => {
    const installed = [{ name: "docker", version: "5.1.0" }, { name: "postgresql", version: pins["@pulumi/postgresql"] }];
    expect(missingPlugins(required, installed).map((p) => p.name)).toEqual(["docker", "command"]);
  });

  /** A workspace whose plugin cache holds `have`; installPlugin adds to it when the download works. */
  function workspace(have: Plugin[], download: boolean) {
    const installs: string[] = [];
    const fake = {
      workDir: REPO_ROOT,
      // an empty plugin cache on disk: the CLI's answer (listPlugins) decides
      envVars: { PULUMI_HOME: mkdtempSync(path.join(os.tmpdir(), "trm-pulumi-home-")) },
      pulumiCommand: { command: "/opt/pulumi/bin/pulumi" },
      listPlugins: async () => have.map((p) => ({ ...p, kind: "resource", size: 1 })),
      installPlugin: async (name: string, version: string) => {
        installs.push(`${name} ${version}`);
        if (!download) throw new Error("error: Could not automatically download and install resource plugin");
        have = [...have, { name, version }];
      },
    };
    return { fake: fake as unknown as Parameters<typeof ensurePlugins>[0], installs };
  }

  it("takes the plugin cache's folders for the CLI's answer when every plugin is there, finished installing", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), "trm-pulumi-home-"));
    const folder = (p: Plugin) => path.join(home, "plugins", `resource-${p.name}-v${p.version}`);
    for (const p of required) mkdirSync(folder(p), { recursive: true });
    writeFileSync(`${folder(required[1])}.partial`, "");
    expect(allInPluginCache(required, home)).toBe(false); // an install under way: ask the CLI
    rmSync(`${folder(required[1])}.partial`);
    expect(allInPluginCache(required, home)).toBe(true);
    const { fake } = workspace([], false);
    (fake as unknown as { envVars: Record<string, string> }).envVars.PULUMI_HOME = home;
    await ensurePlugins(fake, { canDownload: false, log: () => undefined }); // no `plugin ls`: its fake says none
    expect(allInPluginCache([{ name: "docker", version: "0.0.1" }], home)).toBe(false);
  });

  it("without internet: stops before anything runs, naming each missing plugin and the command that installs it", async () => {
    const { fake, installs } = workspace([required[2]], true);
    const error = await ensurePlugins(fake, { canDownload: false, log: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPluginsError);
    expect(installs).toEqual([]); // no download attempt where none can work
    const message = (error as Error).message;
    expect(message).toContain(`docker ${required[0].version}, postgresql ${required[1].version}.`);
    expect(message).toContain(`/opt/pulumi/bin/pulumi plugin install resource docker ${required[0].version} --file FILE`);
    expect(message).toContain(`/opt/pulumi/bin/pulumi plugin install resource postgresql ${required[1].version} --file FILE`);
    expect(message).not.toContain("resource command");
    expect(message).toContain("Nothing was created");
  });

  it("with internet: installs the missing ones at the pinned versions", async () => {
    const { fake, installs } = workspace([], true);
    await ensurePlugins(fake, { canDownload: true, log: () => undefined });
    expect(installs).toEqual(required.map((p) => `${p.name} ${p.version}`));
  });

  it("with a download that fails: says so and stops with the same message", async () => {
    const { fake } = workspace([], false);
    const lines: string[] = [];
    await expect(ensurePlugins(fake, { canDownload: true, log: (l) => lines.push(l) })).rejects.toThrow(MissingPluginsError);
    expect(lines).toContain(`cannot install docker ${required[0].version}: error: Could not automatically download and install resource plugin`);
  });
});

describe("loadProgram", () => {
  it("takes index.ts's export as the program function, as the scripts load it (ts-node's output through scripts/register-ts.cjs)", () => {
    // a process of its own: vitest does not load TypeScript through require()
    const script = 'console.log(typeof require("./scripts/lib/stack").loadProgram(require("path").resolve("index.ts")))';
    const out = execFileSync(process.execPath, ["-r", "./scripts/register-ts.cjs", "-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(out.trim()).toBe("function");
  });

  it("refuses a module that does not export a function, naming the file", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "trm-program-")), "program.js");
    writeFileSync(file, "exports.directusUrl = 'x';\n");
    expect(() => loadProgram(file)).toThrow(`${file} must export the Pulumi program as a function`);
  });
});

describe("recovering from an interrupted run", () => {
  const holder = (pid: number, hostname = os.hostname()) => ({ file: `/x/${pid}.json`, pid, username: "dev", hostname, timestamp: "2026-12-01T10:00:00Z" });
  const fakeStack = () => {
    const calls: string[] = [];
    return { stack: { name: "dev", cancel: async () => void calls.push("cancel") } as unknown as Stack, calls };
  };

  it("reads a file backend's checkpoint without the CLI, as `stack export` gives it, its secrets left encrypted", () => {
    const backend = mkdtempSync(path.join(os.tmpdir(), "trm-backend-"));
    const dir = path.join(backend, ".pulumi", "stacks", "trm-directus");
    mkdirSync(dir, { recursive: true });
    const latest = {
      resources: [{ type: "pulumi:pulumi:Stack", outputs: { databaseContainer: "trm-dev-db", portainerStack: { env: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:x" } } } }],
      pending_operations: [],
    };
    const url = `file://${backend}`;
    expect(readCheckpoint(url, "trm-directus", "dev")).toEqual({ version: 3, deployment: {} }); // no `up` yet
    writeFileSync(path.join(dir, "dev.json.gz"), gzipSync(JSON.stringify({ version: 3, checkpoint: { stack: "organization/trm-directus/dev", latest } })));
    expect(readCheckpoint(url, "trm-directus", "dev")).toEqual({ version: 3, deployment: latest });
    writeFileSync(path.join(dir, "dev.json"), JSON.stringify({ version: 3, checkpoint: { stack: "organization/trm-directus/dev", latest } }));
    expect(dockerObjectsOf(stackOutputsIn(readCheckpoint(url, "trm-directus", "dev")!)).databaseContainer).toBe("trm-dev-db");
    writeFileSync(path.join(dir, "dev.json"), "{ half written");
    expect(readCheckpoint(url, "trm-directus", "dev")).toBeUndefined(); // the caller exports instead
    expect(readCheckpoint("s3://bucket/state", "trm-directus", "dev")).toBeUndefined();
  });

  it("releases the lock of a process that is gone on this machine, saying so", async () => {
    const { stack, calls } = fakeStack();
    const lines: string[] = [];
    await releaseStaleLocks(stack, [holder(4242)], (l) => lines.push(l), () => false);
    expect(calls).toEqual(["cancel"]);
    expect(lines).toEqual(["released the lock of a run that no longer exists (pid 4242, 2026-12-01T10:00:00Z)"]);
  });

  it("refuses when a live process holds the stack, naming its pid, and releases nothing", async () => {
    const { stack, calls } = fakeStack();
    await expect(releaseStaleLocks(stack, [holder(4242)], () => undefined, () => true)).rejects.toThrow(
      "another `npm run dev` (or pulumi) is running on stack dev (pid 4242, since 2026-12-01T10:00:00Z)",
    );
    expect(calls).toEqual([]);
  });

  it("leaves a lock of another machine alone and says how to release it", async () => {
    const { stack, calls } = fakeStack();
    await expect(releaseStaleLocks(stack, [holder(4242, "ci-runner-7")], () => undefined, () => false)).rejects.toThrow(
      /locked by dev@ci-runner-7 \(pid 4242[^)]*\)\. If that run is gone, `npm run pulumi -- cancel --stack dev --yes` releases it/,
    );
    expect(calls).toEqual([]);
  });

  it("reads the file backend's lock files of one stack", () => {
    const backend = mkdtempSync(path.join(os.tmpdir(), "trm-locks-"));
    const dir = path.join(backend, ".pulumi", "locks", "organization", "trm-directus", "dev");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "a.json"), JSON.stringify({ pid: 7, username: "u", hostname: "h", timestamp: "t" }));
    expect(readLocks(`file://${backend}`, "trm-directus", "dev")).toEqual([{ file: path.join(dir, "a.json"), pid: 7, username: "u", hostname: "h", timestamp: "t" }]);
    expect(readLocks(`file://${backend}`, "trm-directus", "ci")).toEqual([]);
    expect(readLocks("s3://bucket", "trm-directus", "dev")).toEqual([]);
  });

  it("tells a live process from one that ended", () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(spawnSync("true").pid!)).toBe(false);
  });

  it("names the stack's Docker objects from its outputs, the data volume apart", () => {
    expect(dockerObjectsOf({})).toEqual({ containers: [], databaseContainer: undefined, networks: [], volumes: [], dataVolume: undefined });
    expect(
      dockerObjectsOf({
        databaseContainer: "trm-dev-db", directusContainer: "trm-dev-directus", networkName: "trm-dev-net",
        volumes: { data: "trm-dev-pgdata", uploads: "trm-dev-uploads" },
      }),
    ).toEqual({ containers: ["trm-dev-db", "trm-dev-directus"], databaseContainer: "trm-dev-db", networks: ["trm-dev-net"], volumes: ["trm-dev-pgdata", "trm-dev-uploads"], dataVolume: "trm-dev-pgdata" });
  });

  it("finds the newest dump of a stack by time, not by name", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "trm-backups-"));
    const dump = (name: string, seconds: number) => {
      writeFileSync(path.join(dir, name), "PGDMP");
      utimesSync(path.join(dir, name), seconds, seconds);
    };
    dump("dev-20261201T100000Z.dump", 1000);
    dump("dev-before-restore-20261130T100000Z.dump", 3000);
    dump("ci-20261201T120000Z.dump", 5000);
    expect(newestBackup(dir, "dev")).toBe(path.join(dir, "dev-before-restore-20261130T100000Z.dump"));
    expect(newestBackup(dir, "e2e")).toBeUndefined();
    expect(newestBackup(path.join(dir, "missing"), "dev")).toBeUndefined();
  });
});

describe("the team's settings and the clone's stack file", () => {
  it("keeps each clone's stack files (secrets, passphrase salt) beside its untracked state", () => {
    expect(stackConfigFile(REPO_ROOT, "dev")).toBe(path.join(REPO_ROOT, ".pulumi-state", "config", "Pulumi.dev.yaml"));
    const ignored = spawnSync("git", ["check-ignore", "-q", ".pulumi-state/config/Pulumi.dev.yaml"], { cwd: REPO_ROOT });
    expect(ignored.status).toBe(0);
  });

  /** A project folder with the team's Pulumi.dev.yaml and the clone's stack file, and a stack that writes that file as Pulumi would. */
  function clone(team: string, own: Record<string, unknown>) {
    const workDir = mkdtempSync(path.join(os.tmpdir(), "trm-team-"));
    writeFileSync(path.join(workDir, "Pulumi.yaml"), "name: trm-directus\nstackConfigDir: .pulumi-state/config\n");
    writeFileSync(path.join(workDir, "Pulumi.dev.yaml"), team);
    const ownFile = path.join(workDir, ".pulumi-state", "config", "Pulumi.dev.yaml");
    mkdirSync(path.dirname(ownFile), { recursive: true });
    const write = (config: Record<string, unknown>) => writeFileSync(ownFile, stringify({ encryptionsalt: "v1:x", config }));
    write(own);
    const config = () => (parse(readFileSync(ownFile, "utf8")) as { config: Record<string, unknown> }).config;
    const stack = {
      name: "dev",
      setAllConfig: async (values: Record<string, { value: string }>) => write({ ...config(), ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.value])) }),
      removeAllConfig: async (keys: string[]) => write(Object.fromEntries(Object.entries(config()).filter(([k]) => !keys.includes(k)))),
    } as unknown as Stack;
    const sync = async () => {
      const lines: string[] = [];
      await syncTeamSettings(stack, workDir, (line) => lines.push(line));
      return lines;
    };
    return { workDir, config, sync, setTeam: (text: string) => writeFileSync(path.join(workDir, "Pulumi.dev.yaml"), text) };
  }
  const team = (settings: Record<string, string>) => stringify({ config: Object.fromEntries(Object.entries(settings).map(([k, v]) => [`trm-directus:${k}`, v])) });
  const secret = { "trm-directus:dbPassword": { secure: "v1:y" } };

  it("a new clone gets every team setting, one line each, and a record of what was copied", async () => {
    const c = clone(team({ adminEmail: "admin@trm.dev", dbPort: "54320" }), secret);
    expect(await c.sync()).toEqual(["team setting adminEmail: admin@trm.dev (from Pulumi.dev.yaml)", "team setting dbPort: 54320 (from Pulumi.dev.yaml)"]);
    expect(c.config()).toMatchObject({ "trm-directus:adminEmail": "admin@trm.dev", "trm-directus:dbPort": "54320", ...secret });
    expect(JSON.parse(readFileSync(copiedRecordFile(c.workDir, "dev"), "utf8")).copied).toEqual({ "trm-directus:adminEmail": "admin@trm.dev", "trm-directus:dbPort": "54320" });
    expect(await c.sync()).toEqual([]); // nothing changed, nothing said
  });

  it("the team changed a key: the change reaches the clone", async () => {
    const c = clone(team({ dbPort: "54320" }), {});
    await c.sync();
    c.setTeam(team({ dbPort: "54330" }));
    expect(await c.sync()).toEqual(["team setting dbPort: 54320 -> 54330 (changed in Pulumi.dev.yaml)"]);
    expect(c.config()["trm-directus:dbPort"]).toBe("54330");
  });

  it("the clone overrode a key: its own value stays while the team's is unchanged", async () => {
    const c = clone(team({ dbPort: "54320", adminEmail: "admin@trm.dev" }), {});
    await c.sync();
    c.setTeam(team({ dbPort: "54320", adminEmail: "admin@trm.dev" }));
    const own = { ...c.config(), "trm-directus:dbPort": "54999" }; // npm run pulumi -- config set dbPort 54999
    writeFileSync(stackConfigFile(c.workDir, "dev"), stringify({ config: own }));
    expect(await c.sync()).toEqual([]);
    expect(c.config()["trm-directus:dbPort"]).toBe("54999");
  });

  it("both: the team changed a key the clone overrode; the clone keeps its own, said once", async () => {
    const c = clone(team({ dbPort: "54320", directusPort: "8055" }), {});
    await c.sync();
    writeFileSync(stackConfigFile(c.workDir, "dev"), stringify({ config: { ...c.config(), "trm-directus:dbPort": "54999" } }));
    c.setTeam(team({ dbPort: "54330", directusPort: "8056" }));
    expect(await c.sync()).toEqual([
      "team setting dbPort: Pulumi.dev.yaml has 54330; this clone keeps its own 54999 (`npm run pulumi -- config rm dbPort --stack dev` takes the team's)",
      "team setting directusPort: 8055 -> 8056 (changed in Pulumi.dev.yaml)",
    ]);
    expect(c.config()).toMatchObject({ "trm-directus:dbPort": "54999", "trm-directus:directusPort": "8056" });
    expect(await c.sync()).toEqual([]);
  });

  it("a clone from before the record keeps a value that differs from the team's (it cannot tell whose it is), and says so", () => {
    const plan = planTeamSettings({ "trm-directus:dbPort": "54320" }, { "trm-directus:dbPort": "54999" }, undefined, { teamFile: "Pulumi.dev.yaml", stack: "dev" });
    expect(plan.set).toEqual({});
    expect(plan.copied).toEqual({ "trm-directus:dbPort": "54320" });
    expect(plan.lines).toEqual(["dbPort: Pulumi.dev.yaml has 54320; this clone keeps its own 54999 (`npm run pulumi -- config rm dbPort --stack dev` takes the team's)"]);
  });

  it("a key the team dropped leaves a clone that had the team's value, and stays where the clone set its own", () => {
    const plan = planTeamSettings({}, { "trm-directus:postgis": "true", "trm-directus:dbPort": "54999" }, { "trm-directus:postgis": "true", "trm-directus:dbPort": "54320" }, { teamFile: "Pulumi.dev.yaml", stack: "dev" });
    expect(plan.remove).toEqual(["trm-directus:postgis"]);
    expect(plan.lines).toEqual(["postgis: removed (no longer in Pulumi.dev.yaml; the default applies)"]);
    expect(plan.copied).toEqual({});
  });

  it("a bad value in the team's file is named with the file, even where the clone has the key, and nothing is changed", async () => {
    const c = clone(team({ dbPort: "54320", adminEmail: "admin@trm.dev" }), {});
    await c.sync();
    const before = c.config();
    c.setTeam(team({ dbPort: "99999", adminEmail: "not-an-email" }));
    const error = await c.sync().catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^Pulumi\.dev\.yaml \(the team's settings for stack dev\) has a bad value; nothing was changed:/);
    expect((error as Error).message).toContain("- adminEmail must be an email address");
    expect((error as Error).message).toContain("- dbPort must be a port number (1-65535)");
    expect(c.config()).toEqual(before);
  });

  it("a malformed team file stops with the YAML error and the file's name", async () => {
    const c = clone("config:\n  trm-directus:dbPort: \"54320\"\n   bad: [\n", {});
    await expect(c.sync()).rejects.toThrow(/Pulumi\.dev\.yaml is not valid YAML: .*line 3/);
  });
});

describe("adopting the machine's stack: what Docker has that the state does not", () => {
  const names = stackDockerNames("dev");
  const all = { [names.db]: "c-db", [names.directus]: "c-dx", [names.network]: "n-1", [names.data]: names.data, [names.uploads]: names.uploads };
  const docker = (have: Record<string, string>) => (_kind: string, name: string) => have[name];
  const none: RecordedObjects = { containers: {}, networks: {}, volumes: [] };
  const ours: RecordedObjects = { containers: { [names.db]: "c-db", [names.directus]: "c-dx" }, networks: { [names.network]: "n-1" }, volumes: [names.data, names.uploads] };

  it("names a stack's objects as index.ts does", () => {
    expect(names).toEqual({ db: "trm-dev-db", directus: "trm-dev-directus", network: "trm-dev-net", data: "trm-dev-pgdata", uploads: "trm-dev-uploads" });
  });

  it("git clean -fdx with the stack running: everything is a leftover, and the kept database gets this clone's secrets", () => {
    expect(findLeftovers(names, none, docker(all))).toEqual({
      containers: ["trm-dev-directus", "trm-dev-db"], networks: ["trm-dev-net"], volumes: ["trm-dev-pgdata", "trm-dev-uploads"], resetSecrets: true,
    });
  });

  it("git clean -fdx (or a re-clone) after dev:down: the kept volumes", () => {
    expect(findLeftovers(names, none, docker({ [names.data]: names.data, [names.uploads]: names.uploads }))).toEqual({
      containers: [], networks: [], volumes: ["trm-dev-pgdata", "trm-dev-uploads"], resetSecrets: true,
    });
  });

  it("another clone took the stack over since (same names, other ids): its containers and network, and its passwords", () => {
    expect(findLeftovers(names, ours, docker({ ...all, [names.db]: "c-db-2", [names.directus]: "c-dx-2", [names.network]: "n-2" }))).toEqual({
      containers: ["trm-dev-directus", "trm-dev-db"], networks: ["trm-dev-net"], volumes: [], resetSecrets: true,
    });
  });

  it("the state's own objects, or some of them gone (the other repairs' cases): nothing to adopt", () => {
    expect(findLeftovers(names, ours, docker(all))).toEqual({ containers: [], networks: [], volumes: [], resetSecrets: false });
    expect(findLeftovers(names, ours, docker({ [names.data]: names.data }))).toEqual({ containers: [], networks: [], volumes: [], resetSecrets: false });
    expect(findLeftovers(names, none, docker({}))).toEqual({ containers: [], networks: [], volumes: [], resetSecrets: false });
  });

  it("reads the state's Docker objects by name and id", () => {
    const resources = [
      { type: "docker:index/container:Container", id: "c-db", outputs: { name: "trm-dev-db" } },
      { type: "pulumi-nodejs:dynamic/docker:Network", id: "n-1", outputs: { name: "trm-dev-net" } },
      // a state from before the network was ours: @pulumi/docker's Network, until the next up takes it over
      { type: "docker:index/network:Network", id: "n-0", outputs: { name: "trm-old-net" } },
      { type: "docker:index/volume:Volume", id: "trm-dev-pgdata", outputs: { name: "trm-dev-pgdata" } },
      { type: "pulumi-nodejs:dynamic:Resource", id: "seed", outputs: { name: "x" } },
    ];
    expect(recordedObjects(resources)).toEqual({ containers: { "trm-dev-db": "c-db" }, networks: { "trm-dev-net": "n-1", "trm-old-net": "n-0" }, volumes: ["trm-dev-pgdata"] });
  });

  it("a kept database that cannot be adopted: one command that copies its files to backups/ first", () => {
    const command = setAsideCommand({ dataVolume: "trm-dev-pgdata", image: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all" }, new Date("2026-12-06T03:15:00.123Z"));
    expect(command).toContain("backups/trm-dev-pgdata-20261206T031500Z.tar.gz");
    expect(command).toMatch(/tar -C \/kept -czf \/backups\/trm-dev-pgdata-20261206T031500Z\.tar\.gz \. && find \/kept -mindepth 1 -delete/);
  });
});

describe("stopOrphanedPlugins", () => {
  /** Waits (a loaded machine may take a while) until n fake plugin processes run, adopted by init. */
  // Counts only this run's orphans (by a marker argument): another suite's may be alive meanwhile.
  const marker = `trm-orphan-test-${process.pid}-${Date.now()}`;
  async function orphansStarted(n: number): Promise<void> {
    const adopted = () =>
      spawnSync("ps", ["-eo", "ppid=,args="], { encoding: "utf8" }).stdout
        .split("\n")
        .filter((line) => /^\s*1\s+node -e .*cmd\/dynamic-provider/.test(line) && line.includes(marker)).length;
    for (const deadline = Date.now() + 10_000; adopted() < n; ) {
      if (Date.now() > deadline) throw new Error(`only ${adopted()} of ${n} orphaned plugin processes started within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("stops a plugin process a killed engine left to init in this project folder, and nothing else", async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), "trm-orphans-"));
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), "trm-orphans-other-"));
    // an orphan (its parent shell exits at once) whose command line reads like the dynamic-provider host
    const orphanIn = (dir: string) =>
      spawnSync("sh", ["-c", `cd ${dir} && (node -e "setTimeout(() => {}, 60000)" ./node_modules/@pulumi/pulumi/cmd/dynamic-provider 127.0.0.1:1 ${marker} &)`], { stdio: "ignore" });
    orphanIn(project);
    orphanIn(elsewhere);
    await orphansStarted(2);
    const stopped = await stopOrphanedPlugins(project);
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatch(/^the dynamic-provider host \(pid \d+\)$/);
    expect(await stopOrphanedPlugins(project)).toEqual([]); // gone by the time it returned
    expect(await stopOrphanedPlugins(elsewhere)).toHaveLength(1); // the other folder's was left alone until now
  });
});
