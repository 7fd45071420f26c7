/**
 * A stack's Docker objects have deterministic names (trm-<stack>-db, -directus, -net, -pgdata,
 * -uploads), so one machine has one `dev` stack, whichever clone or state brought it up. When
 * `npm run dev` finds them in Docker but not in its state (`git clean -fdx`, a re-clone, a second
 * clone, or a volume kept by `dev:down`), it adopts them: the containers and the network are removed
 * and created again by the `up` (they hold nothing), the volumes are kept with their data, and a kept
 * database is brought to this clone's secrets (scripts/lib/kept-database.ts).
 */
import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { DOCKER_NETWORK_TYPES } from "../../components/docker-network";
import { validateStackConfig } from "../../lib/stack-config";
import { docker } from "./docker";
import { bringKeptDatabaseToSecrets } from "./kept-database";
import { stackImages } from "./machine";
import { withoutProjectPrefix } from "./team-settings";

export interface StackDockerNames {
  db: string;
  directus: string;
  network: string;
  data: string;
  uploads: string;
}

/** The physical names index.ts gives a stack's Docker objects (namePrefix trm-<stack>). */
export function stackDockerNames(stackName: string): StackDockerNames {
  const prefix = `trm-${stackName}`;
  return { db: `${prefix}-db`, directus: `${prefix}-directus`, network: `${prefix}-net`, data: `${prefix}-pgdata`, uploads: `${prefix}-uploads` };
}

/** The Docker objects a state records: containers and networks by name with their ids, volume names. */
export interface RecordedObjects {
  containers: Record<string, string>;
  networks: Record<string, string>;
  volumes: string[];
}

export function recordedObjects(resources: { type: string; id?: string; outputs?: Record<string, unknown> }[]): RecordedObjects {
  const recorded: RecordedObjects = { containers: {}, networks: {}, volumes: [] };
  for (const r of resources) {
    const name = String(r.outputs?.name ?? "");
    if (r.type === "docker:index/container:Container") recorded.containers[name] = r.id ?? "";
    else if (DOCKER_NETWORK_TYPES.includes(r.type)) recorded.networks[name] = r.id ?? "";
    else if (r.type === "docker:index/volume:Volume") recorded.volumes.push(name);
  }
  return recorded;
}

export interface Leftovers {
  /** Containers of the stack's names that are not the state's (removed, then created again). */
  containers: string[];
  networks: string[];
  /** Volumes the state does not record (kept; the `up` takes them over). */
  volumes: string[];
  /** The data volume is kept but was not this state's database: its passwords are someone else's. */
  resetSecrets: boolean;
}

/** What Docker has under the stack's names that the state does not record (or records with another id). */
export function findLeftovers(
  names: StackDockerNames,
  recorded: RecordedObjects,
  idInDocker: (kind: "container" | "network" | "volume", name: string) => string | undefined,
): Leftovers {
  const foreign = (kind: "container" | "network", name: string, ours: Record<string, string>) => {
    const id = idInDocker(kind, name);
    return id !== undefined && ours[name] !== id;
  };
  const containers = [names.directus, names.db].filter((name) => foreign("container", name, recorded.containers));
  const networks = [names.network].filter((name) => foreign("network", name, recorded.networks));
  const volumes = [names.data, names.uploads].filter((name) => idInDocker("volume", name) !== undefined && !recorded.volumes.includes(name));
  const dataKept = idInDocker("volume", names.data) !== undefined;
  return { containers, networks, volumes, resetSecrets: dataKept && (volumes.includes(names.data) || containers.includes(names.db)) };
}

function idInDocker(kind: "container" | "network" | "volume", name: string): string | undefined {
  const inspected = docker([kind, "inspect", "-f", kind === "volume" ? "{{.Name}}" : "{{.Id}}", name]);
  return inspected.ok ? inspected.stdout : undefined;
}

/**
 * Adopts what the machine's stack left in Docker that this state does not know (see the top);
 * says what it found, what it adopted and what it reset. Returns whether it adopted anything.
 */
export async function adoptLeftovers(stack: Stack, state: Deployment, log: (line: string) => void): Promise<boolean> {
  const names = stackDockerNames(stack.name);
  const leftovers = findLeftovers(names, recordedObjects(state.deployment?.resources ?? []), idInDocker);
  const found = [...leftovers.containers, ...leftovers.networks, ...leftovers.volumes];
  if (found.length === 0) return false;
  log(`found ${found.join(", ")} in Docker, not made by this clone's state (an earlier state or another clone of stack ${stack.name}): adopting them, keeping the volumes`);
  const reset: string[] = [];
  // Directus first: it holds nothing, and must not use the database while its passwords change
  if (leftovers.resetSecrets || leftovers.containers.includes(names.directus)) docker(["rm", "-f", names.directus]);
  if (leftovers.resetSecrets) {
    reset.push(...bringKeptDatabaseToSecrets(await keptDatabase(stack, names), log));
  } else if (leftovers.containers.includes(names.db)) {
    docker(["stop", "-t", "60", names.db]);
    docker(["rm", "-f", names.db]);
  }
  for (const network of leftovers.networks) docker(["network", "rm", network]);
  const recreated = [...leftovers.containers, ...leftovers.networks];
  log(
    `adopted: ${[
      leftovers.volumes.length > 0 ? `volumes ${leftovers.volumes.join(", ")} kept with their data` : "",
      recreated.length > 0 ? `${recreated.join(", ")} removed, created again by this up` : "",
    ].filter(Boolean).join("; ")}`,
  );
  for (const line of reset) log(`reset: ${line}`);
  return true;
}

/** The kept database as this clone's config describes it (secrets decrypted here, never printed). */
async function keptDatabase(stack: Stack, names: StackDockerNames) {
  const all = await stack.getAllConfig();
  const config = validateStackConfig(stack.name, withoutProjectPrefix(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.value]))));
  const [databaseImage, directusImage] = stackImages(stack.name, (stack.workspace as { workDir?: string }).workDir);
  return {
    stack: stack.name,
    container: names.db,
    dataVolume: names.data,
    image: config.database.image ?? databaseImage,
    directusImage,
    db: { name: config.database.name, user: config.database.user, password: config.database.password },
    admin: { email: config.directus.adminEmail, password: config.directus.adminPassword },
    directus: { key: config.directus.key, secret: config.directus.secret },
  };
}
