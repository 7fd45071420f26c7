/**
 * lib/reach.ts: which container this process runs in (from /proc/self/mountinfo and the Docker
 * daemon), the decision reachContainersBy makes there, and the addresses it gives. The graph it
 * shapes is in test/program.test.ts; the docker-network mode against real containers, from inside a
 * job container, in e2e/job-container.e2e.test.ts.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { containerIdsInMountinfo, decideReach, parseSelfContainer, probeProgramHost, serviceAddress, type ProgramHost, type ReachSetting } from "../lib/reach";
import { validateStackConfig } from "../lib/stack-config";

const ID = "3f9c".repeat(16);
const job = (networkMode: string): ProgramHost => ({ container: { id: ID, name: "GITEA-ACTIONS-TASK-7_build", networkMode }, note: "in container GITEA-ACTIONS-TASK-7_build" });
const host: ProgramHost = { note: "not in a container" };
const unknownContainer: ProgramHost = { note: "in a container the Docker daemon does not know (Error: No such container: sandbox)" };

/** A container's /proc/self/mountinfo as Docker 20.10 writes it (overlay root, the three files it bind-mounts). */
const MOUNTINFO = [
  "1153 1017 0:112 / / rw,relatime master:542 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/AB:/var/lib/docker/overlay2/l/CD,upperdir=/var/lib/docker/overlay2/x/diff",
  "1154 1153 0:115 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  `1161 1153 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
  `1162 1153 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
  `1163 1153 254:1 /var/lib/docker/containers/${ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw`,
  "1164 1153 0:24 /docker.sock /run/docker.sock rw,nosuid,nodev - tmpfs tmpfs rw",
].join("\n");

describe("the probe: which container this process runs in", () => {
  it("finds the container id in the files Docker bind-mounts into every container", () => {
    expect(containerIdsInMountinfo(MOUNTINFO)).toEqual([ID]);
    expect(containerIdsInMountinfo("1 0 0:1 / / rw - ext4 /dev/vda1 rw\n")).toEqual([]);
    // an id elsewhere (a volume named after one) is not the container's own
    expect(containerIdsInMountinfo(`1 0 0:1 /var/lib/docker/volumes/${ID}/_data /data rw - ext4 /dev/vda1 rw\n`)).toEqual([]);
  });

  it("reads what the Docker daemon says about it", () => {
    expect(parseSelfContainer(`${ID} /GITEA-ACTIONS-TASK-7_build GITEA-ACTIONS-TASK-7-network\n`)).toEqual(job("GITEA-ACTIONS-TASK-7-network").container);
    expect(parseSelfContainer("Error: No such object: x")).toBeUndefined();
    expect(parseSelfContainer("")).toBeUndefined();
  });

  it("where these tests run: the container Docker reports for this process, or none with the reason (a dev sandbox here, a job container in CI)", () => {
    const here = probeProgramHost();
    if (here.container) {
      // in a job container: Docker itself names it, by the id the probe found
      const inspect = spawnSync("docker", ["inspect", "--format", "{{.Name}} {{.HostConfig.NetworkMode}}", here.container.id], { encoding: "utf8" });
      expect(inspect.stdout.trim()).toBe(`/${here.container.name} ${here.container.networkMode}`);
      expect(here.note).toBe(`in container ${here.container.name}`);
    } else {
      expect(here.note).toMatch(/^(not in a container|in a container the Docker daemon does not know \(.+\)|in a container, with no Docker CLI)/);
    }
  });
});

describe("the decision", () => {
  const decide = (setting: ReachSetting, where: ProgramHost) => decideReach(setting, where);

  it.each<[ReachSetting, ProgramHost, string]>([
    ["auto", host, "published-ports"],
    ["auto", unknownContainer, "published-ports"],
    ["auto", job("host"), "published-ports"],
    ["auto", job("GITEA-ACTIONS-TASK-7-network"), "docker-network"],
    ["auto", job("bridge"), "docker-network"],
    ["auto", job("default"), "docker-network"],
    ["published-ports", host, "published-ports"],
    ["published-ports", job("host"), "published-ports"],
    ["docker-network", job("bridge"), "docker-network"],
  ])("%s, %j → %s", (setting, where, mode) => {
    const decided = decide(setting, where);
    expect("reach" in decided && decided.reach.mode).toBe(mode);
  });

  it("says so in one line, with the reason", () => {
    const inJob = decide("auto", job("GITEA-ACTIONS-TASK-7-network"));
    expect("reach" in inJob && inJob.reach).toEqual({
      mode: "docker-network",
      container: ID,
      line: "reach: the stack's containers by name on its Docker network, which this container (GITEA-ACTIONS-TASK-7_build) joins (auto: it runs in a container of the Docker daemon it drives)",
    });
    const onHost = decide("auto", host);
    expect("reach" in onHost && onHost.reach.line).toBe("reach: the stack's containers at 127.0.0.1:<published port> (auto: not in a container)");
    const explicit = decide("published-ports", job("host"));
    expect("reach" in explicit && explicit.reach.line).toMatch(/\(reachContainersBy is published-ports: it runs in container GITEA-ACTIONS-TASK-7_build on the host's network\)$/);
    for (const decided of [inJob, onHost, explicit]) expect("reach" in decided && decided.reach.line.includes("\n")).toBe(false);
  });

  it.each<[ReachSetting, ProgramHost, RegExp]>([
    ["docker-network", host, /reachContainersBy is docker-network, but not in a container: only a process in a container of this Docker daemon/],
    ["docker-network", unknownContainer, /but in a container the Docker daemon does not know/],
    ["docker-network", job("host"), /on the host's network, which cannot join another network/],
    ["published-ports", job("bridge"), /127\.0\.0\.1 is that container, not the Docker host/],
    ["auto", job("none"), /network mode "none": it can neither reach ports published on the Docker host nor join/],
    ["auto", job(`container:${"a".repeat(64)}`), /it can neither reach/],
  ])("refuses %s with %j, saying what to do", (setting, where, problem) => {
    const decided = decide(setting, where);
    expect("problem" in decided && decided.problem).toMatch(problem);
  });
});

describe("the addresses", () => {
  const port = { containerPort: 5432, hostPort: 15432, hostIp: "127.0.0.1", hostStepsOnly: true };
  const reachOf = (where: ProgramHost) => {
    const decided = decideReach("auto", where);
    if (!("reach" in decided)) throw new Error(decided.problem);
    return decided.reach;
  };

  it("published ports: 127.0.0.1 (a 0.0.0.0 bind too) and the host port; docker network: the container's name and its own port", () => {
    expect(serviceAddress(reachOf(host), "trm-ci-db", port)).toEqual({ host: "127.0.0.1", port: 15432 });
    expect(serviceAddress(reachOf(host), "trm-ci-directus", { ...port, hostIp: "0.0.0.0" })).toEqual({ host: "127.0.0.1", port: 15432 });
    expect(serviceAddress(reachOf(job("bridge")), "trm-ci-db", port)).toEqual({ host: "trm-ci-db", port: 5432 });
  });
});

describe("the stack setting", () => {
  const SECRETS = { adminPassword: "Rally-Tr4ck-2026x", dbPassword: "db-pass-0123456789", directusKey: "k".repeat(32), directusSecret: "s".repeat(32) };
  const valid = { adminEmail: "ci@trm.dev", ...SECRETS };

  it("defaults to auto, and is checked against where the program runs only when that is given", () => {
    expect(validateStackConfig("ci", valid).reachContainersBy).toBe("auto");
    expect(validateStackConfig("ci", { ...valid, reachContainersBy: "docker-network" }).reachContainersBy).toBe("docker-network");
    expect(() => validateStackConfig("ci", { ...valid, reachContainersBy: "docker-network" }, host)).toThrow(/reachContainersBy is docker-network, but not in a container/);
  });

  it("reports its problem with every other one at once, and an unknown value by name", () => {
    const bad = { ...valid, adminEmail: "nope", reachContainersBy: "published-ports" };
    expect(() => validateStackConfig("ci", bad, job("bridge"))).toThrow(/2 configuration problems[\s\S]*adminEmail must be an email address[\s\S]*reachContainersBy is published-ports/);
    expect(() => validateStackConfig("ci", { ...valid, reachContainersBy: "nearby" }, host)).toThrow(/reachContainersBy must be one of auto, published-ports, docker-network/);
  });
});
