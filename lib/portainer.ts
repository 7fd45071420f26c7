/**
 * The client that creates or updates the Portainer stack (lib/compose.ts renders it) through
 * Portainer's API, as Portainer CE 2.23 behaves (see deployToPortainer).
 */
import { parse } from "yaml";
import { PORTAINER_SECRET_ENV, type PortainerEnvVar, type PortainerStack } from "./compose";

export interface PortainerTarget {
  /** e.g. https://portainer.example.com (PORTAINER_URL) */
  url: string;
  /** An admin's access token, sent as X-API-Key (PORTAINER_API_KEY). */
  apiKey: string;
  /** The environment (endpoint) that runs the stack (PORTAINER_ENDPOINT_ID). */
  endpointId: number;
  /** PORTAINER_STACK_NAME; Portainer keeps it normalised (normalizeStackName). */
  stackName: string;
}

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
}

/** Portainer's answer or state that this client cannot go on with; the message says what to do. */
export class PortainerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PortainerError";
  }
}

/** An error answer of Portainer's API, which is JSON `{ message, details }`. */
class PortainerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly portainerMessage: string,
    readonly details: string,
    request: string,
  ) {
    super(`Portainer ${request}: HTTP ${status} ${portainerMessage}${details && details.toLowerCase() !== portainerMessage.toLowerCase() ? ` (${details})` : ""}`);
    this.name = "PortainerHttpError";
  }

  get text(): string {
    return `${this.portainerMessage}\n${this.details}`;
  }
}

/** The fields of a stack in GET /api/stacks that this client reads. */
interface StackRecord {
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
 * What the real API does, and this follows:
 * - an environment exists only once the admin is initialised and the Docker host connected: a
 *   missing one (or a rejected key) is reported first, with what to do;
 * - an update with `pullImage` pulls every image of the compose text before it changes anything: a
 *   failed pull is reported with the image(s) at fault;
 * - `prune` exists only for Swarm stacks (a compose stack's update ignores it): it is never sent;
 * - an update through the API detaches a stack deployed from git: such a stack is refused.
 */
export async function deployToPortainer(target: PortainerTarget, stack: PortainerStack, options: DeployOptions = {}): Promise<DeployResult> {
  const api = portainerApi(target, options.fetchImpl ?? fetch);
  await requireEnvironment(api, target);
  const name = normalizeStackName(target.stackName);
  const existing = await findStack(api, target, name);
  if (!existing) return { action: "created", id: await createStack(api, target, name, stack), name, keptSecrets: [] };
  const { env, kept } = options.keepExistingSecrets ? keepHeldSecrets(stack.env, existing.Env ?? []) : { env: stack.env, kept: [] };
  await updateStack(api, target, existing, { compose: stack.compose, env });
  return { action: "updated", id: existing.Id, name, keptSecrets: kept };
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

type PortainerApi = <T>(method: string, path: string, body?: unknown) => Promise<T>;

function portainerApi(target: PortainerTarget, fetchImpl: typeof fetch): PortainerApi {
  const base = `${target.url.replace(/\/+$/, "")}/api`;
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetchImpl(`${base}${path}`, {
      method,
      headers: { "X-API-Key": target.apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: unknown) => {
      throw new PortainerError(`cannot reach Portainer at ${target.url} (PORTAINER_URL): ${causeOf(error)}; check the address and that this machine reaches it`);
    });
    const text = await response.text();
    if (!response.ok) throw httpError(response.status, `${method} ${path}`, text);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

function httpError(status: number, request: string, text: string): PortainerHttpError {
  let body: { message?: string; details?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not Portainer's JSON (a proxy's error page): its text stands for the message
  }
  return new PortainerHttpError(status, body.message ?? text.slice(0, 300), body.details ?? "", request);
}

/** A 401 or 404 on the environment: no admin yet, a rejected key, or a wrong id; each says what to do. */
async function requireEnvironment(api: PortainerApi, target: PortainerTarget): Promise<void> {
  try {
    await api("GET", `/endpoints/${target.endpointId}`);
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
    await api("GET", "/users/admin/check");
    return true;
  } catch (error) {
    if (error instanceof PortainerHttpError && error.status === 404) return false;
    throw error;
  }
}

async function noSuchEnvironment(api: PortainerApi, target: PortainerTarget): Promise<string> {
  const environments = (await api<{ Id: number; Name: string }[] | undefined>("GET", "/endpoints")) ?? [];
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
  const stacks = (await api<StackRecord[] | undefined>("GET", "/stacks")) ?? [];
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
    const created = await api<{ Id: number }>("POST", `/stacks/create/standalone/string?endpointId=${target.endpointId}`, {
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

async function updateStack(api: PortainerApi, target: PortainerTarget, existing: StackRecord, stack: PortainerStack): Promise<void> {
  try {
    await api("PUT", `/stacks/${existing.Id}?endpointId=${target.endpointId}`, { stackFileContent: stack.compose, env: stack.env, pullImage: true });
  } catch (error) {
    // Portainer pulls before it touches the stack: a failed pull leaves it running as it was.
    throw explainPullFailure(error, stack.compose, `updating stack ${existing.Name} (it still runs as before)`);
  }
}

function keepHeldSecrets(rendered: PortainerEnvVar[], held: PortainerEnvVar[]): { env: PortainerEnvVar[]; kept: string[] } {
  const secretNames: readonly string[] = PORTAINER_SECRET_ENV;
  const heldValues = new Map(held.filter((e) => secretNames.includes(e.name) && e.value !== "").map((e) => [e.name, e.value]));
  const env = rendered.map((e) => (heldValues.has(e.name) ? { name: e.name, value: heldValues.get(e.name)! } : e));
  return { env, kept: rendered.map((e) => e.name).filter((name) => heldValues.has(name)) };
}

interface ComposeImage {
  service: string;
  image: string;
}

/** A failed pull (Portainer relays `docker compose pull`/`up` stderr) as an error naming the image(s) at fault. */
function explainPullFailure(error: unknown, compose: string, doing: string): unknown {
  if (!(error instanceof PortainerHttpError) || !/\bpull/i.test(error.text)) return error;
  const images = composeImages(compose);
  const named = images.filter((image) => mentions(error.text, image));
  const culprits = (named.length > 0 ? named : images).map((i) => `${i.image} (service ${i.service})`).join(", ");
  return new PortainerError(
    `Portainer could not pull ${culprits} while ${doing}: ${pullReason(error.text)}. ` +
      "Every image of the stack must be in a registry the Portainer host reaches, never a local-only tag: push it there, " +
      "and if the registry is private add its credentials to Portainer (Registries)",
  );
}

function composeImages(compose: string): ComposeImage[] {
  const services = (parse(compose)?.services ?? {}) as Record<string, { image?: string }>;
  return Object.entries(services).flatMap(([service, s]) => (s.image ? [{ service, image: s.image }] : []));
}

/** Docker names the repository (no tag) or the registry host; compose prints "<service> Error". */
function mentions(text: string, { service, image }: ComposeImage): boolean {
  const repository = image.replace(/@sha256:[a-f0-9]+$/, "").replace(/:[^/:]+$/, "");
  const host = /^([^/]+[.:][^/]*|localhost)\//.exec(repository)?.[1];
  return text.includes(repository) || (host !== undefined && text.includes(host)) || new RegExp(`^\\s*${escapeRegExp(service)}\\s+Error\\b`, "m").test(text);
}

function pullReason(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error response from daemon/i.test(l)) ?? lines[0] ?? "no reason given";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
