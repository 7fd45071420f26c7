/**
 * The Docker Engine API of a stack's host, read through Portainer's Docker proxy
 * (/api/endpoints/{id}/docker/...: Portainer CE 2.23 passes these to the host's Docker, filtering by
 * access), so the runner needs no network path to the host or to Directus.
 */
import type { PortainerApi, PortainerTarget } from "./api";

/** The fields of GET /containers/{id}/json that the rollout reads. */
export interface ContainerState {
  Id: string;
  Name: string;
  Created: string;
  RestartCount: number;
  /** The image ID (sha256:…) */
  Image: string;
  Config: { Image: string; Tty?: boolean; Labels?: Record<string, string> };
  State: {
    Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
    ExitCode: number;
    Health?: { Status: "starting" | "healthy" | "unhealthy" | "none" };
  };
}

/**
 * Every container (running or not) of a compose service: compose labels them with the project
 * (Portainer runs a stack with its name as the project) and the service. Newest first.
 */
export async function serviceContainers(api: PortainerApi, target: PortainerTarget, project: string, service: string): Promise<ContainerState[]> {
  const filters = JSON.stringify({ label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`] });
  const listed = await api.json<{ Id: string }[]>("GET", `${dockerPath(target)}/containers/json?all=1&filters=${encodeURIComponent(filters)}`);
  const inspected = await Promise.all(listed.map((c) => inspectContainer(api, target, c.Id)));
  return inspected.sort((a, b) => b.Created.localeCompare(a.Created));
}

export function inspectContainer(api: PortainerApi, target: PortainerTarget, id: string): Promise<ContainerState> {
  return api.json<ContainerState>("GET", `${dockerPath(target)}/containers/${id}/json`);
}

/** The container's last `tail` log lines, stdout and stderr in the order written. */
export async function containerLogs(api: PortainerApi, target: PortainerTarget, container: ContainerState, tail: number): Promise<string[]> {
  const raw = await api.bytes(`${dockerPath(target)}/containers/${container.Id}/logs?stdout=1&stderr=1&tail=${tail}`);
  const text = container.Config.Tty ? raw.toString("utf8") : demultiplex(raw);
  return text.split(/\r?\n/).filter((line, i, all) => line !== "" || i < all.length - 1);
}

/**
 * Docker's log stream of a container without a TTY is multiplexed: frames of an 8-byte header
 * (stream type, three zero bytes, the payload's length as a big-endian uint32) and the payload.
 */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString("utf8");
}

function dockerPath(target: PortainerTarget): string {
  return `/endpoints/${target.endpointId}/docker`;
}
