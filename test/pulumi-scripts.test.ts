/**
 * The scripts' way into Pulumi (scripts/lib): how `npm run dev` gets its CLI, with the installer
 * injected (a machine with internet and Docker needs nothing but Node: the CLI is downloaded;
 * offline machines build the toolchain), the state backend and passphrase, failure messages.
 */
import { CommandError, type PulumiCommand } from "@pulumi/pulumi/automation";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findPulumi, pulumiCacheRoot, type PulumiSources } from "../scripts/lib/pulumi-cli";
import { describeFailure, pulumiEnv } from "../scripts/lib/stack";

const cli = (name: string) => ({ command: name }) as unknown as PulumiCommand;

function sources(have: { path?: boolean; cache?: boolean; internet?: boolean }) {
  const calls: string[] = [];
  const fake: PulumiSources = {
    onPath: async () => (calls.push("onPath"), have.path ? cli("path") : undefined),
    installed: async (root) => (calls.push(`installed ${root}`), have.cache ? cli("cache") : undefined),
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

  it("downloads the pinned version into the cache on a machine with internet (plugins then download on first use)", async () => {
    const { fake, calls } = sources({ internet: true });
    const found = await findPulumi("3.276.0", fake, quiet);
    expect(found).toMatchObject({ source: "download", offline: false });
    expect(found.command.command).toBe("downloaded");
    expect(calls).toEqual(["onPath", `installed ${root}`, `download ${root} 3.276.0`]);
  });

  it("builds the offline toolchain when the download site cannot be reached, and says so", async () => {
    const { fake, calls } = sources({});
    const lines: string[] = [];
    const found = await findPulumi("3.276.0", fake, (line) => lines.push(line));
    expect(found).toMatchObject({ source: "offline", offline: true });
    expect(calls.at(-1)).toBe("buildOffline");
    expect(lines.join("\n")).toMatch(/cannot download the Pulumi CLI \(getaddrinfo ENOTFOUND get\.pulumi\.com\)[\s\S]*offline toolchain/);
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
