/**
 * The stack's network resource (components/docker-network.ts) against the real Docker daemon, its
 * provider called as Pulumi's provider host calls it: create, take over, refresh, the update that takes
 * over a state recorded by @pulumi/docker's Network, delete. (The whole program under the engine, and
 * the take-over of an older stack's state, are in e2e/stack.e2e.test.ts.)
 *   npx vitest run --config vitest.e2e.config.mts e2e/docker-network.e2e.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerNetworkProvider as provider } from "../components/docker-network";
import { docker, dockerOrThrow } from "../scripts/lib/docker";
import { ensureDocker, ensureImages, stackImages } from "../scripts/lib/machine";

const NAME = "trm-e2e-netres-net";
const CONTAINER = "trm-e2e-netres-sleeper";
const [databaseImage] = stackImages("dev");
const idOf = (name: string) => dockerOrThrow(["network", "inspect", "--format", "{{.Id}}", name]);
const cleanUp = () => {
  docker(["rm", "-f", CONTAINER]);
  docker(["network", "rm", NAME]);
};

beforeAll(async () => {
  const log = (line: string) => console.log(`docker-network: ${line}`);
  await ensureDocker(log);
  await ensureImages([databaseImage], log);
  cleanUp();
}, 300_000);
afterAll(cleanUp);

describe("the stack's network on the Docker CLI", () => {
  it("create makes the network and records its id; a second create takes it over (a run killed before recording it)", async () => {
    const created = await provider.create({ name: NAME });
    expect(created).toEqual({ id: idOf(NAME), outs: { name: NAME, networkId: idOf(NAME) } });
    expect(await provider.create({ name: NAME })).toEqual(created);
  });

  it("diff: nothing for the same name; a new name replaces it; a state from @pulumi/docker's Network is updated once, in place", async () => {
    const outs = { name: NAME, networkId: idOf(NAME) };
    expect(await provider.diff!(outs.networkId, outs, { name: NAME })).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff!(outs.networkId, outs, { name: `${NAME}-2` })).toMatchObject({ changes: true, replaces: ["name"] });
    const recordedByPulumiDocker = { name: NAME, driver: "bridge", internal: false } as never;
    expect(await provider.diff!(outs.networkId, recordedByPulumiDocker, { name: NAME })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.update!(outs.networkId, recordedByPulumiDocker, { name: NAME })).toEqual({ outs });
    expect(idOf(NAME)).toBe(outs.networkId); // the same network: its containers stay on it
  });

  it("refresh reads it by id, and reads a network removed by hand as gone", async () => {
    const networkId = idOf(NAME);
    expect(await provider.read!(networkId)).toEqual({ id: networkId, props: { name: NAME, networkId } });
    dockerOrThrow(["network", "rm", NAME]);
    expect(await provider.read!(networkId)).toEqual({ id: "" });
  });

  it("delete removes it, a second delete finds nothing to do; one with a container on it says so", async () => {
    const outs = (await provider.create({ name: NAME })).outs!;
    dockerOrThrow(["run", "-d", "--name", CONTAINER, "--network", NAME, "--entrypoint", "sleep", databaseImage, "60"]);
    await expect(provider.delete!(outs.networkId, outs)).rejects.toThrow(/docker network rm trm-e2e-netres-net failed: .*active endpoints/);
    docker(["rm", "-f", CONTAINER]);
    await provider.delete!(outs.networkId, outs);
    expect(docker(["network", "inspect", NAME]).ok).toBe(false);
    await provider.delete!(outs.networkId, outs);
  });
});
