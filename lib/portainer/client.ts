/**
 * Creates or updates the Portainer stack (lib/compose.ts renders it) through Portainer's API, as
 * Portainer CE 2.23 behaves (see deployToPortainer), and reads a stack's current version back.
 */
import type { PortainerEnvVar, PortainerStack } from "../compose";
import { PORTAINER_SECRET_ENV } from "../compose";
import { causeOf, httpError, PortainerError, PortainerHttpError, portainerApi, type PortainerApi, type PortainerTarget } from "./api";
import { explainPullFailure } from "./pull-failure";

export interface DeployOptions {
  /**
   * Keep the secret values (PORTAINER_SECRET_ENV) an existing stack holds instead of the rendered
   * ones: its database was initialised with that password, and CI holds no stage secrets.
   */
  keepExistingSecrets?: boolean;
  fetchImpl?: typeof fetch;
}

export interface DeployResult {
  action: "created" | "updated";
  id: number;
  /** The stack's name as Portainer keeps it. */
  name: string;
  /** Secret env names whose values the existing stack kept (keepExistingSecrets). */
  keptSecrets: string[];
  /** What the stack ran before this update (its compose text and env), read before updating; none for a created stack. */
  previous?: PortainerStack;
  /** What was sent: the compose text and the env list with the kept secrets. */
  deployed: PortainerStack;
}

/** The fields of a stack in GET /api/stacks (and GET /api/stacks/{id}) that this client reads. */
export interface StackRecord {
  Id: number;
  Name: string;
  Type: number;
  EndpointId: number;
  Env: PortainerEnvVar[] | null;
  GitConfig?: { URL?: string } | null;
}

const STACK_TYPES: Record<number, string> = { 1: "Swarm", 2: "Compose", 3: "Kubernetes" };
const COMPOSE_STACK = 2;

/** Portainer stores a stack name lowercased, without the characters outside [-_a-z0-9]. */
export function normalizeStackName(name: string): string {
  return name.toLowerCase().replace(/[^-_a-z0-9]+/g, "");
}

/**
 * Creates the stack (POST /api/stacks/create/standalone/string), or updates the one of that
 * (normalised) name on that environment in place (PUT /api/stacks/{id}?endpointId=) with the compose
 * text, the whole env list (Portainer replaces it) and `pullImage`, so a moved tag is pulled again.
 * Before an update it reads the version running (GET /api/stacks/{id}/file and the stack's Env), so
 * a failed rollout can put it back. What the real API does, and this follows:
 * - an environment exists only once the admin is initialised and the Docker host connected: a
 *   missing one (or a rejected key) is reported first, with what to do;
 * - an update with `pullImage` pulls every image of the compose text before it changes anything: a
 *   failed pull is reported with the image at fault;
 * - `prune` exists only for Swarm stacks (a compose stack's update ignores it): it is never sent;
 * - an update through the API detaches a stack deployed from git: such a stack is refused.
 */
export async function deployToPortainer(target: PortainerTarget, stack: PortainerStack, options: DeployOptions = {}): Promise<DeployResult> {
  const api = portainerApi(target, options.fetchImpl);
  await requireEnvironment(api, target);
  const name = normalizeStackName(target.stackName);
  const existing = await findStack(api, target, name);
  if (!existing) return { action: "created", id: await createStack(api, target, name, stack), name, keptSecrets: [], deployed: stack };
  const previous = await readStackVersion(api, existing);
  const { env, kept } = options.keepExistingSecrets ? keepHeldSecrets(stack.env, previous.env) : { env: stack.env, kept: [] };
  const deployed = { compose: stack.compose, env };
  await updateStack(api, target, existing, deployed, { pullImage: true });
  return { action: "updated", id: existing.Id, name, keptSecrets: kept, previous, deployed };
}

/** The compose text (GET /api/stacks/{id}/file) and env list a stack runs now. */
export async function readStackVersion(api: PortainerApi, stack: Pick<StackRecord, "Id" | "Env">): Promise<PortainerStack> {
  const file = await api.json<{ StackFileContent: string }>("GET", `/stacks/${stack.Id}/file`);
  return { compose: file.StackFileContent, env: stack.Env ?? [] };
}

/** The stack of the target's (normalised) name on its environment, or a clear error. */
export async function requireStack(api: PortainerApi, target: PortainerTarget): Promise<StackRecord> {
  await requireEnvironment(api, target);
  const name = normalizeStackName(target.stackName);
  const stack = await findStack(api, target, name);
  if (!stack) throw new PortainerError(`Portainer has no stack named ${name} on environment ${target.endpointId} (PORTAINER_STACK_NAME)`);
  return stack;
}

/** PUT /api/stacks/{id}: the compose text and the whole env list; a rollback sends `pullImage: false` (its images are on the host). */
export async function updateStack(
  api: PortainerApi,
  target: PortainerTarget,
  existing: Pick<StackRecord, "Id" | "Name">,
  stack: PortainerStack,
  { pullImage }: { pullImage: boolean },
): Promise<void> {
  try {
    await api.json("PUT", `/stacks/${existing.Id}?endpointId=${target.endpointId}`, { stackFileContent: stack.compose, env: stack.env, pullImage });
  } catch (error) {
    // Portainer pulls before it touches the stack: a failed pull leaves it running as it was.
    throw explainPullFailure(error, stack.compose, `updating stack ${existing.Name} (it still runs as before)`);
  }
}

/**
 * Calls a stack webhook (POST, no key). Only a stack Portainer deploys from git has one; Portainer
 * then redeploys it, pulling its images, when the branch moved. The URL is a credential: never printed.
 */
export async function invokeStackWebhook(url: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const response = await fetchImpl(url, { method: "POST" }).catch((error: unknown) => {
    throw new PortainerError(`cannot reach the Portainer webhook in PORTAINER_WEBHOOK_URL: ${causeOf(error)}`);
  });
  if (response.ok) return;
  const error = httpError(response.status, "webhook (PORTAINER_WEBHOOK_URL)", await response.text());
  if (error.status === 404) {
    throw new PortainerError(
      "no Portainer stack has the webhook in PORTAINER_WEBHOOK_URL (HTTP 404): copy it again from the stack (only a stack deployed from git has one); " +
        "for a stack created by npm run portainer:stack, set PORTAINER_URL, PORTAINER_API_KEY and PORTAINER_ENDPOINT_ID instead",
    );
  }
  throw new PortainerError(error.message);
}

/** A 401 or 404 on the environment: no admin yet, a rejected key, or a wrong id; each says what to do. */
async function requireEnvironment(api: PortainerApi, target: PortainerTarget): Promise<void> {
  try {
    await api.json("GET", `/endpoints/${target.endpointId}`);
  } catch (error) {
    if (!(error instanceof PortainerHttpError) || (error.status !== 401 && error.status !== 404)) throw error;
    if (!(await hasAdministrator(api))) {
      throw new PortainerError(
        `Portainer at ${target.url} has no administrator yet, so it has no environment ${target.endpointId} (PORTAINER_ENDPOINT_ID) and no access token: ` +
          "open it, create the admin, connect the Docker host (Environments), then create an access token (My account → Access tokens) " +
          "for PORTAINER_API_KEY and set PORTAINER_ENDPOINT_ID to the environment's id",
      );
    }
    if (error.status === 401) {
      throw new PortainerError(
        `Portainer at ${target.url} rejected PORTAINER_API_KEY (HTTP 401 ${error.portainerMessage}): ` +
          "create an access token for an administrator (My account → Access tokens) and store it as PORTAINER_API_KEY",
      );
    }
    throw new PortainerError(await noSuchEnvironment(api, target));
  }
}

/** GET /api/users/admin/check (public): 204 once an administrator exists, 404 before. */
async function hasAdministrator(api: PortainerApi): Promise<boolean> {
  try {
    await api.json("GET", "/users/admin/check");
    return true;
  } catch (error) {
    if (error instanceof PortainerHttpError && error.status === 404) return false;
    throw error;
  }
}

async function noSuchEnvironment(api: PortainerApi, target: PortainerTarget): Promise<string> {
  const environments = (await api.json<{ Id: number; Name: string }[] | undefined>("GET", "/endpoints")) ?? [];
  const known = environments.map((e) => `${e.Id} (${e.Name})`).join(", ");
  return (
    `Portainer at ${target.url} has no environment with id ${target.endpointId} (PORTAINER_ENDPOINT_ID): ` +
    (known
      ? `it has ${known}; set PORTAINER_ENDPOINT_ID to the one that runs the stack`
      : "it has none yet: connect the Docker host (Environments), then set PORTAINER_ENDPOINT_ID to its id")
  );
}

async function findStack(api: PortainerApi, target: PortainerTarget, name: string): Promise<StackRecord | undefined> {
  if (!name) throw new PortainerError(`PORTAINER_STACK_NAME "${target.stackName}" keeps no character in Portainer, which allows only a-z, 0-9, - and _`);
  const stacks = (await api.json<StackRecord[] | undefined>("GET", "/stacks")) ?? [];
  const existing = stacks.find((s) => s.Name === name && s.EndpointId === target.endpointId);
  if (existing) assertUpdatable(existing, target);
  return existing;
}

function assertUpdatable(stack: StackRecord, target: PortainerTarget): void {
  const which = `stack ${stack.Name} (id ${stack.Id}) on environment ${target.endpointId}`;
  if (stack.GitConfig) {
    throw new PortainerError(
      `${which} is deployed from git${stack.GitConfig.URL ? ` (${stack.GitConfig.URL})` : ""}, and an update through the API would detach it from git: ` +
        "redeploy it with its webhook (set PORTAINER_WEBHOOK_URL instead of PORTAINER_URL), or choose another PORTAINER_STACK_NAME",
    );
  }
  if (stack.Type !== COMPOSE_STACK) {
    throw new PortainerError(
      `${which} is a ${STACK_TYPES[stack.Type] ?? `type ${stack.Type}`} stack, and this client manages compose (standalone) stacks: ` +
        "remove it in Portainer or choose another PORTAINER_STACK_NAME",
    );
  }
}

async function createStack(api: PortainerApi, target: PortainerTarget, name: string, stack: PortainerStack): Promise<number> {
  try {
    const created = await api.json<{ Id: number }>("POST", `/stacks/create/standalone/string?endpointId=${target.endpointId}`, {
      name,
      stackFileContent: stack.compose,
      env: stack.env,
    });
    return created.Id;
  } catch (error) {
    if (error instanceof PortainerHttpError && error.status === 409) {
      throw new PortainerError(
        `Portainer says a stack named ${name} already runs on environment ${target.endpointId}, but its stack list does not show it to this key ` +
          `(${error.portainerMessage}): remove those containers, or choose another PORTAINER_STACK_NAME`,
      );
    }
    throw explainPullFailure(error, stack.compose, `creating stack ${name}`);
  }
}

function keepHeldSecrets(rendered: PortainerEnvVar[], held: PortainerEnvVar[]): { env: PortainerEnvVar[]; kept: string[] } {
  const secretNames: readonly string[] = PORTAINER_SECRET_ENV;
  const heldValues = new Map(held.filter((e) => secretNames.includes(e.name) && e.value !== "").map((e) => [e.name, e.value]));
  const env = rendered.map((e) => (heldValues.has(e.name) ? { name: e.name, value: heldValues.get(e.name)! } : e));
  return { env, kept: rendered.map((e) => e.name).filter((name) => heldValues.has(name)) };
}
