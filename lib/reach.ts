/**
 * How the program reaches the containers it creates (stack setting `reachContainersBy`):
 * - `published-ports`: at 127.0.0.1:<published port>, where Pulumi runs on the Docker host (or in a
 *   container on the host's network);
 * - `docker-network`: by container name on the stack's Docker network, which the container Pulumi
 *   runs in joins (a CI job container: act_runner gives each job a network of its own, where
 *   127.0.0.1 is the job container itself);
 * - `auto` (the default): `docker-network` when this process runs in a container that the Docker
 *   daemon it talks to knows (the socket is mounted) and that is not on the host's network; else
 *   `published-ports`. The decision is one line of the program's output.
 * The extensions, the migrations, the seed and the stack's outputs (so `npm run stack -- smoke`) all
 * use the addresses decided here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as os from "node:os";
import { localAddress, type PortBinding, type ServiceDescription } from "./services";

export const REACH_SETTINGS = ["auto", "published-ports", "docker-network"] as const;
export type ReachSetting = (typeof REACH_SETTINGS)[number];

/** The container this process runs in, as the Docker daemon reports it. */
export interface SelfContainer {
  id: string;
  name: string;
  /** HostConfig.NetworkMode: "host", "bridge"/"default", a network's name, "none", "container:<id>". */
  networkMode: string;
}

/** Where this process runs, as far as the Docker daemon it talks to can tell. */
export interface ProgramHost {
  /** Set when this process runs in a container the daemon knows (the Docker socket is mounted). */
  container?: SelfContainer;
  /** What was found, for the one line: "not in a container", "in a container the Docker daemon does not know (...)". */
  note: string;
}

export type Reach =
  | { mode: "published-ports"; line: string }
  | { mode: "docker-network"; container: string; line: string };

const SETTING = "reachContainersBy";

/** The reach the setting gives on this host, or the problem that makes it impossible (reported with the other config problems). */
export function decideReach(setting: ReachSetting, host: ProgramHost): { reach: Reach } | { problem: string } {
  const c = host.container;
  const by = setting === "auto" ? "auto" : `${SETTING} is ${setting}`;
  if (c && !canJoinNetworks(c) && c.networkMode !== "host") {
    return { problem: `${SETTING}: this process runs in container ${c.name} with network mode "${c.networkMode}": it can neither reach ports published on the Docker host nor join the stack's network. Run it on the host's network or on a bridge or user-defined network` };
  }
  if (setting === "docker-network" && !c) {
    return { problem: `${SETTING} is docker-network, but ${host.note}: only a process in a container of this Docker daemon (the socket mounted) can join the stack's network. Use published-ports or auto` };
  }
  if (setting === "docker-network" && c?.networkMode === "host") {
    return { problem: `${SETTING} is docker-network, but this process runs in container ${c.name} on the host's network, which cannot join another network. Use published-ports or auto (127.0.0.1 is the Docker host's there)` };
  }
  if (setting === "published-ports" && c && c.networkMode !== "host") {
    return { problem: `${SETTING} is published-ports, but this process runs in container ${c.name} (network "${c.networkMode}"), where 127.0.0.1 is that container, not the Docker host. Use docker-network or auto, or run the job on the host's network` };
  }
  if (c && c.networkMode !== "host") {
    return { reach: { mode: "docker-network", container: c.id, line: `reach: the stack's containers by name on its Docker network, which this container (${c.name}) joins (${by}: it runs in a container of the Docker daemon it drives)` } };
  }
  const where = c ? `it runs in container ${c.name} on the host's network` : host.note;
  return { reach: { mode: "published-ports", line: `reach: the stack's containers at 127.0.0.1:<published port> (${by}: ${where})` } };
}

/** A container on the host's network, or one sharing another's, cannot be connected to a network. */
function canJoinNetworks(c: SelfContainer): boolean {
  return c.networkMode !== "host" && c.networkMode !== "none" && !c.networkMode.startsWith("container:");
}

export interface Address {
  host: string;
  port: number;
}

/** Where the program reaches a service's first port: its container by name on the stack's network, or the port published on this host. */
export function serviceAddress(reach: Reach, containerName: string, port: PortBinding): Address {
  return reach.mode === "docker-network" ? { host: containerName, port: port.containerPort } : { host: localAddress(port.hostIp), port: port.hostPort };
}

/** The physical name of a service's container (the components name them so). */
export const containerName = (namePrefix: string, service: ServiceDescription): string => `${namePrefix}-${service.name}`;

// ---------------------------------------------------------------------------------------------------
// The probe: which container (if any) this process runs in, asked of the Docker daemon.

/** Container ids Docker bind-mounts into every container (/etc/hostname, /etc/hosts, /etc/resolv.conf from /var/lib/docker/containers/<id>/). */
export function containerIdsInMountinfo(mountinfo: string): string[] {
  const ids = [...mountinfo.matchAll(/\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)\s/g)].map((m) => m[1]);
  return [...new Set(ids)];
}

/** Parses `docker inspect --format '{{.Id}} {{.Name}} {{.HostConfig.NetworkMode}}'`. */
export function parseSelfContainer(line: string): SelfContainer | undefined {
  const [id, name, networkMode] = line.trim().split(" ");
  return /^[0-9a-f]{64}$/.test(id ?? "") && name && networkMode ? { id, name: name.replace(/^\//, ""), networkMode } : undefined;
}

/** Where this process runs: reads /proc/self/mountinfo and asks the Docker daemon (the CLI) about the container it names. */
export function probeProgramHost(): ProgramHost {
  const mountinfo = readIfExists("/proc/self/mountinfo");
  const candidates = containerIdsInMountinfo(mountinfo);
  const inContainer = candidates.length > 0 || existsSync("/.dockerenv");
  if (!inContainer) return { note: "not in a container" };
  // Docker names a container's hostname after its short id unless told otherwise.
  let lastError = "";
  for (const candidate of [...candidates, os.hostname()]) {
    const inspect = spawnSync("docker", ["inspect", "--type", "container", "--format", "{{.Id}} {{.Name}} {{.HostConfig.NetworkMode}}", candidate], { encoding: "utf8" });
    const container = inspect.status === 0 ? parseSelfContainer(inspect.stdout) : undefined;
    if (container) return { container, note: `in container ${container.name}` };
    if (inspect.error) return { note: `in a container, with no Docker CLI to ask the daemon about it (${inspect.error.message}), so published ports are taken to be on this host` };
    lastError = (inspect.stderr ?? "").trim().split("\n")[0];
  }
  return { note: `in a container the Docker daemon does not know (${lastError || "no container id found"}), so its published ports are taken to be on this host` };
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
