/**
 * How `npm run dev` gets its Pulumi CLI, with the installer injected: a machine with internet and
 * Docker needs nothing but Node (the CLI is downloaded); offline machines build the toolchain.
 */
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findPulumi, pulumiCacheRoot, type PulumiSources } from "../scripts/lib/pulumi-cli";

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
