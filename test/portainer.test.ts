/**
 * The Portainer hand-off (lib/portainer.ts, scripts/portainer-stack.ts) against an HTTP fake of
 * Portainer CE 2.23's API, modelled on its handlers (api/http/handler/stacks, users/admin_check,
 * endpoints, the bouncer): what the real API does that the client must follow.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  pinImage,
  PORTAINER_SECRET_ENV,
  renderPortainerStack,
  stackInputFromConfig,
  type PortainerEnvVar,
  type PortainerStackInput,
} from "../lib/compose";
import { deployToPortainer, invokeStackWebhook, normalizeStackName, PortainerError, type PortainerTarget } from "../lib/portainer";
import { validateStackConfig } from "../lib/stack-config";
import { readPortainerSettings, redeploy, type RedeployDeps } from "../scripts/portainer-stack";
import { teamSettings } from "../scripts/render-portainer-compose";

const REPOSITORY = "git.dev.microservices.al/trm/directus";
const DIGEST_REF = `${REPOSITORY}@sha256:${"a".repeat(64)}`;
const DB_IMAGE = "timescale/timescaledb-ha:pg16.6-ts2.17.2-all";

const input: PortainerStackInput = {
  directusImage: DIGEST_REF,
  databaseImage: DB_IMAGE,
  database: { name: "directus", user: "directus", password: "db-secret-value-1" },
  directus: {
    publicUrl: "https://trm.example.com",
    adminEmail: "admin@trm.dev",
    adminPassword: "admin-secret-value-2",
    key: "key-secret-value-3",
    secret: "secret-secret-value-4",
    schemaApplyMode: "apply",
    schemaAllowDeletions: false,
  },
};

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

interface FakeStack {
  Id: number;
  Name: string;
  /** 1 Swarm, 2 Compose */
  Type: number;
  EndpointId: number;
  Env: PortainerEnvVar[];
  GitConfig: { URL: string } | null;
  compose: string;
  webhook?: string;
}

interface Answer {
  status: number;
  json?: unknown;
}

const COMPOSE = 2;
const OBJECT_NOT_FOUND = "Object not found inside the database";

/** Portainer's error body (pkg/libhttp/error): the message, and the cause capitalised as details. */
function failure(status: number, message: string, details = message): Answer {
  return { status, json: { message, details: details.charAt(0).toUpperCase() + details.slice(1) } };
}

/** Go's encoding/json: a key fills the field whose name it matches case-insensitively; other keys are dropped. */
function goDecode(raw: unknown, fields: string[]): Record<string, any> {
  const decoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const field = fields.find((f) => f.toLowerCase() === key.toLowerCase());
    if (field) decoded[field] = value;
  }
  return decoded;
}

const repositoryOf = (image: string) => image.replace(/@sha256:[a-f0-9]+$/, "").replace(/:[^/:]+$/, "");

/**
 * Portainer CE 2.23 as far as the client uses it. The operator's steps in its UI (the admin, the
 * Docker host as an environment, an access token) are methods; everything else is HTTP. Its Docker
 * host pulls from `registry` (what registries it reaches serve) and has `hostImages` (local builds).
 */
class FakePortainer {
  readonly requests: { method: string; path: string; body: any }[] = [];
  readonly stacks: FakeStack[] = [];
  readonly registry = new Set<string>();
  readonly hostImages = new Set<string>();
  readonly pulls: number[] = [];
  readonly webhookRedeploys: number[] = [];
  url = "";
  private admin = false;
  private nextId = 1;
  private readonly keys = new Set<string>();
  private readonly environments = new Map<number, string>();
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // the client's keep-alive connections would hold close() open for seconds
      this.server.closeAllConnections();
    });
  }

  initialiseAdmin(): void {
    this.admin = true;
  }

  /** Tokens belong to a user: none can exist before the admin. */
  createAccessToken(): string {
    if (!this.admin) throw new Error("fake: no user to own a token before the admin exists");
    const key = `ptr_${randomBytes(16).toString("base64url")}`;
    this.keys.add(key);
    return key;
  }

  connectEnvironment(id: number, name: string): void {
    if (!this.admin) throw new Error("fake: environments are connected after the admin exists");
    this.environments.set(id, name);
  }

  addStack(stack: Omit<FakeStack, "Id">): FakeStack {
    const added = { ...stack, Id: this.nextId++ };
    this.stacks.push(added);
    return added;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      const url = new URL(req.url!, this.url);
      const body = text ? JSON.parse(text) : undefined;
      this.requests.push({ method: req.method!, path: `${url.pathname}${url.search}`, body });
      const answer = this.route(req.method!, url, req.headers["x-api-key"] as string | undefined, body);
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(answer.json === undefined ? undefined : JSON.stringify(answer.json));
    });
  }

  private route(method: string, url: URL, apiKey: string | undefined, body: unknown): Answer {
    const path = url.pathname;
    if (method === "GET" && path === "/api/users/admin/check") {
      return this.admin ? { status: 204 } : failure(404, "No administrator account found inside the database", OBJECT_NOT_FOUND);
    }
    const webhook = /^\/api\/stacks\/webhooks\/([^/]+)$/.exec(path);
    if (method === "POST" && webhook) return this.invokeWebhook(webhook[1]);
    const denied = this.authenticate(apiKey);
    if (denied) return denied;
    if (method === "GET" && path === "/api/endpoints") return { status: 200, json: [...this.environments].map(([Id, Name]) => ({ Id, Name })) };
    const endpoint = /^\/api\/endpoints\/(\d+)$/.exec(path);
    if (method === "GET" && endpoint) return this.inspectEnvironment(Number(endpoint[1]));
    if (method === "GET" && path === "/api/stacks") return { status: 200, json: this.stacks.map(listed) };
    if (method === "POST" && path === "/api/stacks/create/standalone/string") return this.createFromString(url, body);
    const stack = /^\/api\/stacks\/(\d+)$/.exec(path);
    if (method === "PUT" && stack) return this.update(Number(stack[1]), url, body);
    return { status: 404, json: { message: "404 page not found" } };
  }

  /** The bouncer: an unknown X-API-Key fails its lookup ("Invalid JWT token"), none at all is missing. */
  private authenticate(apiKey: string | undefined): Answer | undefined {
    if (!apiKey) return failure(401, "A valid authorization token is missing", "Unauthorized");
    if (!this.keys.has(apiKey)) return failure(401, "Invalid JWT token", "Unauthorized");
    return undefined;
  }

  private inspectEnvironment(id: number): Answer {
    const name = this.environments.get(id);
    if (name === undefined) return failure(404, "Unable to find an environment with the specified identifier inside the database", OBJECT_NOT_FOUND);
    return { status: 200, json: { Id: id, Name: name } };
  }

  private createFromString(url: URL, raw: unknown): Answer {
    const endpointId = Number(url.searchParams.get("endpointId"));
    if (!url.searchParams.has("endpointId")) return failure(400, "Invalid query parameter: endpointId");
    if (!this.environments.has(endpointId)) {
      return failure(404, "Unable to find an environment with the specified identifier inside the database", OBJECT_NOT_FOUND);
    }
    const payload = goDecode(raw, ["Name", "StackFileContent", "Env", "FromAppTemplate"]);
    if (!payload.Name) return failure(400, "Invalid request payload", "Invalid stack name");
    if (!payload.StackFileContent) return failure(400, "Invalid request payload", "Invalid stack file content");
    const name = normalizeStackName(payload.Name);
    if (this.stacks.some((s) => s.Name === name && s.EndpointId === endpointId)) {
      return failure(409, `A stack with the normalized name '${name}' already exists`);
    }
    const upFailure = this.composeUp(payload.StackFileContent);
    if (upFailure) return failure(500, `failed to deploy a stack: ${upFailure}`);
    const stack = this.addStack({ Name: name, Type: COMPOSE, EndpointId: endpointId, Env: payload.Env ?? [], GitConfig: null, compose: payload.StackFileContent });
    return { status: 200, json: listed(stack) };
  }

  /** stackUpdate: the payload by stack type (only Swarm has Prune), a pull first, Env replaced, git detached. */
  private update(id: number, url: URL, raw: unknown): Answer {
    const stack = this.stacks.find((s) => s.Id === id);
    if (!stack) return failure(404, "Unable to find a stack with the specified identifier inside the database", OBJECT_NOT_FOUND);
    if (!url.searchParams.has("endpointId")) return failure(400, "Invalid query parameter: endpointId");
    const endpointId = Number(url.searchParams.get("endpointId"));
    if (!this.environments.has(endpointId)) {
      return failure(404, "Unable to find the environment associated to the stack inside the database", OBJECT_NOT_FOUND);
    }
    const fields = stack.Type === COMPOSE ? ["StackFileContent", "Env", "PullImage"] : ["StackFileContent", "Env", "Prune", "PullImage"];
    const payload = goDecode(raw, fields);
    if (!payload.StackFileContent) return failure(400, "Invalid request payload", "Invalid stack file content");
    if (payload.PullImage) {
      const pullFailure = this.pull(payload.StackFileContent, [...this.registry]);
      if (pullFailure) return failure(500, `failed to pull images of the stack: ${pullFailure}`);
      this.pulls.push(stack.Id);
    }
    const upFailure = this.composeUp(payload.StackFileContent);
    if (upFailure) return failure(500, `failed to deploy a stack: ${upFailure}`);
    Object.assign(stack, { Env: payload.Env ?? [], compose: payload.StackFileContent, GitConfig: null, EndpointId: endpointId });
    return { status: 200, json: listed(stack) };
  }

  private invokeWebhook(id: string): Answer {
    const stack = this.stacks.find((s) => s.webhook === id);
    if (!stack) return failure(404, "Unable to find the stack by webhook ID", OBJECT_NOT_FOUND);
    this.webhookRedeploys.push(stack.Id);
    return { status: 204 };
  }

  /** `docker compose up`: pulls what the host lacks. */
  private composeUp(compose: string): string | undefined {
    return this.pull(compose, [...this.registry, ...this.hostImages], [...this.hostImages]);
  }

  /** `docker compose pull`'s stderr for the images `available` lacks (skipping `present` ones), else undefined. */
  private pull(compose: string, available: string[], present: string[] = []): string | undefined {
    const services = parse(compose).services as Record<string, { image: string }>;
    const failed = Object.entries(services).filter(([, s]) => !present.includes(s.image) && !available.includes(s.image));
    if (failed.length === 0) return undefined;
    const reason = (image: string) =>
      [...this.registry].some((served) => repositoryOf(served) === repositoryOf(image))
        ? `manifest for ${image} not found: manifest unknown: manifest unknown`
        : `pull access denied for ${repositoryOf(image)}, repository does not exist or may require 'docker login'`;
    const lines = failed.map(([service, s]) => ` ${service} Error ${reason(s.image)}`);
    return [...lines, `Error response from daemon: ${reason(failed[0][1].image)}`].join("\n");
  }
}

/** A stack as GET /api/stacks shows it (the stack file is not in it). */
function listed({ compose: _compose, webhook: _webhook, ...stack }: FakeStack) {
  return stack;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe("the rendered Portainer stack", () => {
  const stack = renderPortainerStack(input);

  it("keeps every secret out of the compose text and in the env list", () => {
    for (const value of ["db-secret-value-1", "admin-secret-value-2", "key-secret-value-3", "secret-secret-value-4"]) {
      expect(stack.compose).not.toContain(value);
      expect(stack.env.some((e) => e.value === value)).toBe(true);
    }
    for (const name of PORTAINER_SECRET_ENV) expect(stack.compose).toContain(`\${${name}}`);
  });

  it("pins the Directus image by digest when the digest is known", () => {
    const tagged = renderPortainerStack({ ...input, directusImage: `${REPOSITORY}:main` });
    const pinned = pinImage(tagged, `${REPOSITORY}:main`, DIGEST_REF);
    expect(parse(pinned.compose).services.directus.image).toBe(DIGEST_REF);
    expect(parse(pinned.compose).services.db.image).toBe(DB_IMAGE);
    expect(pinImage(tagged, `${REPOSITORY}:main`, undefined)).toBe(tagged);
  });

  it("renders a validated stack config, Directus on the image given", () => {
    const config = validateStackConfig("stage", { ...teamSettings("stage"), ...secretConfig("1"), publicUrl: "https://stage.trm.example" });
    const rendered = renderPortainerStack(stackInputFromConfig(config, DIGEST_REF));
    expect(parse(rendered.compose).services.directus.image).toBe(DIGEST_REF);
    expect(rendered.env).toContainEqual({ name: "PUBLIC_URL", value: "https://stage.trm.example" });
    expect(rendered.env).toContainEqual({ name: "DB_PASSWORD", value: secretConfig("1").dbPassword });
    expect(parse(renderPortainerStack(stackInputFromConfig(config)).compose).services.directus.image).toBe(config.registryImage);
  });
});

describe("deployToPortainer against Portainer's API (an HTTP fake of CE 2.23)", () => {
  let fake: FakePortainer;

  beforeEach(async () => {
    fake = new FakePortainer();
    fake.registry.add(DIGEST_REF).add(DB_IMAGE);
    await fake.start();
  });
  afterEach(() => fake.stop());

  /** Portainer as an operator sets it up: the admin, the Docker host as environment 1, a token. */
  function setUp(): PortainerTarget {
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "local");
    return { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: "trm-directus" };
  }

  const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);

  it("a Portainer without its administrator has no environment yet: the error says how to set it up", async () => {
    const target = { url: fake.url, apiKey: "ptr_made_up", endpointId: 1, stackName: "trm-directus" };
    const error = await deployToPortainer(target, renderPortainerStack(input)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(PortainerError);
    expect((error as Error).message).toMatch(/has no administrator yet, so it has no environment 1 \(PORTAINER_ENDPOINT_ID\)/);
    expect((error as Error).message).toMatch(/create the admin, connect the Docker host .* for PORTAINER_API_KEY/);
    expect(calls()).toEqual(["GET /api/endpoints/1", "GET /api/users/admin/check"]);
  });

  it("an environment id Portainer lacks is reported with the ids it has", async () => {
    const target = { ...setUp(), endpointId: 2 };
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(
      /has no environment with id 2 \(PORTAINER_ENDPOINT_ID\): it has 1 \(local\); set PORTAINER_ENDPOINT_ID/,
    );
    expect(calls().some((c) => c.startsWith("POST"))).toBe(false);
  });

  it("a rejected access token names PORTAINER_API_KEY and never prints the key", async () => {
    const target = { ...setUp(), apiKey: "ptr_revoked_0123456789" };
    const error = (await deployToPortainer(target, renderPortainerStack(input)).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/rejected PORTAINER_API_KEY \(HTTP 401 Invalid JWT token\): create an access token/);
    expect(error.message).not.toContain("ptr_revoked_0123456789");
  });

  it("creates the stack, then updates it in place: idempotent by its name as Portainer normalises it", async () => {
    const target = { ...setUp(), stackName: "TRM-Directus" };
    fake.connectEnvironment(3, "edge");
    const elsewhere = fake.addStack({ Name: "trm-directus", Type: COMPOSE, EndpointId: 3, Env: [], GitConfig: null, compose: "services: {}\n" });
    const stack = renderPortainerStack(input);

    const first = await deployToPortainer(target, stack);
    const second = await deployToPortainer(target, stack);
    const third = await deployToPortainer(target, stack);

    expect(first).toEqual({ action: "created", id: 2, name: "trm-directus", keptSecrets: [] });
    expect([second, third].map((r) => `${r.action} ${r.id}`)).toEqual(["updated 2", "updated 2"]);
    expect(fake.stacks.filter((s) => s.Name === "trm-directus").map((s) => s.EndpointId)).toEqual([3, 1]);
    expect(fake.stacks.find((s) => s.Id === elsewhere.Id)).toEqual(elsewhere);
    expect(calls()).toEqual([
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "POST /api/stacks/create/standalone/string?endpointId=1",
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "PUT /api/stacks/2?endpointId=1",
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "PUT /api/stacks/2?endpointId=1",
    ]);
    expect(fake.requests[2].body).toEqual({ name: "trm-directus", stackFileContent: stack.compose, env: stack.env });
  });

  it("an update sends the compose text, the whole env list and pullImage, and never prune (compose stacks ignore it)", async () => {
    const target = setUp();
    await deployToPortainer(target, renderPortainerStack(input));
    const changed = renderPortainerStack({ ...input, directus: { ...input.directus, publicUrl: "https://changed.trm.example" } });
    await deployToPortainer(target, changed);

    const put = fake.requests.find((r) => r.method === "PUT")!;
    expect(Object.keys(put.body).sort()).toEqual(["env", "pullImage", "stackFileContent"]);
    expect(put.body.pullImage).toBe(true);
    expect(fake.pulls).toEqual([1]);
    expect(fake.stacks[0].Env).toEqual(changed.env);
    expect(fake.stacks[0].compose).toBe(changed.compose);
  });

  it.each([
    {
      what: "a local-only tag",
      image: "trm-directus:ci",
      reason: /pull access denied for trm-directus, repository does not exist/,
    },
    {
      what: "a digest the registry does not serve",
      image: `${REPOSITORY}@sha256:${"b".repeat(64)}`,
      reason: /manifest for git\.dev\.microservices\.al\/trm\/directus@sha256:b+ not found: manifest unknown/,
    },
  ])("a pull failure during the update names the image at fault ($what); the stack runs on as it was", async ({ image, reason }) => {
    const target = setUp();
    fake.hostImages.add("trm-directus:ci");
    const running = renderPortainerStack(input);
    await deployToPortainer(target, running);

    const error = (await deployToPortainer(target, renderPortainerStack({ ...input, directusImage: image })).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(PortainerError);
    expect(error.message).toContain(`could not pull ${image} (service directus) while updating stack trm-directus`);
    expect(error.message).toMatch(reason);
    expect(error.message).toMatch(/registry the Portainer host reaches, never a local-only tag/);
    expect(error.message).not.toContain(DB_IMAGE);
    expect(fake.stacks[0].compose).toBe(running.compose);
    expect(fake.stacks[0].Env).toEqual(running.env);
  });

  it("keeps the secrets the stack holds when asked (its database was initialised with them), and takes the rest", async () => {
    const target = setUp();
    const first = renderPortainerStack(input);
    await deployToPortainer(target, first);
    const rotated = renderPortainerStack({
      ...input,
      database: { ...input.database, password: "another-db-secret" },
      directus: { ...input.directus, adminPassword: "another-admin", key: "another-key", secret: "another-secret", publicUrl: "https://new.trm.example" },
    });

    const result = await deployToPortainer(target, rotated, { keepExistingSecrets: true });

    expect(result.keptSecrets.sort()).toEqual([...PORTAINER_SECRET_ENV].sort());
    const env = Object.fromEntries(fake.stacks[0].Env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ DB_PASSWORD: "db-secret-value-1", ADMIN_PASSWORD: "admin-secret-value-2", KEY: "key-secret-value-3" });
    expect(env).toMatchObject({ SECRET: "secret-secret-value-4", PUBLIC_URL: "https://new.trm.example" });
  });

  it.each([
    { kind: "deployed from git", Type: COMPOSE, GitConfig: { URL: "https://git.example/trm/deploy.git" }, message: /deployed from git \(https:\/\/git\.example\/trm\/deploy\.git\).*set PORTAINER_WEBHOOK_URL/ },
    { kind: "a Swarm stack", Type: 1, GitConfig: null, message: /is a Swarm stack, and this client manages compose \(standalone\) stacks/ },
  ])("refuses to update a stack of that name that is $kind", async ({ Type, GitConfig, message }) => {
    const target = setUp();
    fake.addStack({ Name: "trm-directus", Type, EndpointId: 1, Env: [], GitConfig, compose: "services: {}\n" });
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(message);
    expect(calls().some((c) => c.startsWith("PUT") || c.startsWith("POST"))).toBe(false);
  });

  it("calls a git stack's webhook; an unknown one is a clear error that does not print the URL", async () => {
    setUp();
    const webhook = "3f0c4d1e-8d3b-4c1a-9f2e-5b6a7c8d9e0f";
    const stack = fake.addStack({ Name: "trm-git", Type: COMPOSE, EndpointId: 1, Env: [], GitConfig: { URL: "https://git.example/x.git" }, compose: "services: {}\n", webhook });

    await invokeStackWebhook(`${fake.url}/api/stacks/webhooks/${webhook}`);
    expect(fake.webhookRedeploys).toEqual([stack.Id]);

    const unknown = "00000000-1111-4222-8333-444444444444";
    const error = (await invokeStackWebhook(`${fake.url}/api/stacks/webhooks/${unknown}`).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/no Portainer stack has the webhook in PORTAINER_WEBHOOK_URL \(HTTP 404\)/);
    expect(error.message).not.toContain(unknown);
  });

  it("says when Portainer cannot be reached, naming PORTAINER_URL", async () => {
    const target = setUp();
    await fake.stop();
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(/cannot reach Portainer at .* \(PORTAINER_URL\): ECONNREFUSED/);
    await fake.start();
  });
});

/** A stack config's secrets, distinct per `tag`, valid for validateStackConfig. */
function secretConfig(tag: string) {
  return {
    adminPassword: `Rally-${tag}-Xy7q`,
    dbPassword: `stage-db-password-${tag}`,
    directusKey: `stage-key-${tag}-`.padEnd(40, "k"),
    directusSecret: `stage-secret-${tag}-`.padEnd(40, "s"),
  };
}

describe("npm run portainer:stack's settings", () => {
  it.each([
    { env: {}, expected: { webhookUrl: undefined } },
    // Gitea passes a secret that is not set as ""
    { env: { PORTAINER_URL: "", PORTAINER_API_KEY: "", PORTAINER_ENDPOINT_ID: "", PORTAINER_WEBHOOK_URL: "" }, expected: { webhookUrl: undefined } },
    { env: { PORTAINER_WEBHOOK_URL: "https://p.example/api/stacks/webhooks/x" }, expected: { webhookUrl: "https://p.example/api/stacks/webhooks/x" } },
    {
      env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "ptr_x", PORTAINER_ENDPOINT_ID: "3", PORTAINER_STACK_NAME: "" },
      expected: { api: { url: "https://p.example", apiKey: "ptr_x", endpointId: 3, stackName: "trm-directus" } },
    },
  ])("reads $env", ({ env, expected }) => {
    expect(readPortainerSettings(env)).toEqual(expected);
  });

  it.each([
    { env: { PORTAINER_URL: "https://p.example" }, message: /with PORTAINER_URL set, also set PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID/ },
    { env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "k", PORTAINER_ENDPOINT_ID: "local" }, message: /PORTAINER_ENDPOINT_ID must be the environment's numeric id .*got "local"/ },
    {
      env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "k", PORTAINER_ENDPOINT_ID: "1", PORTAINER_WEBHOOK_URL: "https://p.example/w" },
      message: /PORTAINER_WEBHOOK_URL is set too/,
    },
  ])("rejects $env", ({ env, message }) => {
    expect(() => readPortainerSettings(env)).toThrow(message);
  });
});

describe("npm run portainer:stack -- --redeploy (CI, after the push)", () => {
  let fake: FakePortainer;
  const pushed = `${REPOSITORY}:0123abcd`;
  const lines: string[] = [];

  beforeEach(async () => {
    lines.length = 0;
    fake = new FakePortainer();
    fake.registry.add(DIGEST_REF).add(DB_IMAGE);
    await fake.start();
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "local");
  });
  afterEach(() => fake.stop());

  function deps(config: Record<string, string>): RedeployDeps {
    return {
      digestOf: (image) => (image === pushed ? DIGEST_REF : undefined),
      readConfig: async (stackName) => ({ ...teamSettings(stackName), ...config }),
      log: (line) => lines.push(line),
    };
  }

  const settings = () => ({ api: { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: "trm-directus" } });
  const stageConfig = (tag: string) => ({ ...secretConfig(tag), publicUrl: "https://stage.trm.example" });

  it("renders the stage stack config with the pushed image by digest, creates the stack, then updates it keeping its secrets", async () => {
    const api = settings();
    const created = await redeploy(pushed, "stage", api, deps(stageConfig("first-run")));
    const updated = await redeploy(pushed, "stage", api, deps(stageConfig("second-run")));

    expect([created?.action, updated?.action]).toEqual(["created", "updated"]);
    const [stack] = fake.stacks;
    expect(parse(stack.compose).services.directus.image).toBe(DIGEST_REF);
    const env = Object.fromEntries(stack.Env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ ADMIN_EMAIL: "admin@trm.dev", PUBLIC_URL: "https://stage.trm.example", DB_PASSWORD: secretConfig("first-run").dbPassword });
    expect(fake.pulls).toEqual([stack.Id]);
    expect(lines[1]).toMatch(/stack trm-directus \(id 1\) on environment 1 updated to Directus .*@sha256:a+, images pulled; kept the secrets it holds \(DB_PASSWORD, KEY, SECRET, ADMIN_PASSWORD\)/);
    for (const line of lines) for (const value of Object.values(secretConfig("first-run"))) expect(line).not.toContain(value);
  });

  it("refuses a stack config without publicUrl, and an image the local Docker has no digest for, before calling Portainer", async () => {
    await expect(redeploy(pushed, "stage", settings(), deps(secretConfig("x")))).rejects.toThrow(
      /stack stage: publicUrl is not set.*set trm-directus:publicUrl in Pulumi\.stage\.yaml/,
    );
    await expect(redeploy(`${REPOSITORY}:never-pushed`, "stage", settings(), deps(stageConfig("x")))).rejects.toThrow(
      /no registry digest for git\.dev\.microservices\.al\/trm\/directus:never-pushed: push it first/,
    );
    expect(fake.requests).toEqual([]);
  });

  it("calls the webhook instead when only PORTAINER_WEBHOOK_URL is set, and says so when nothing is", async () => {
    const webhook = "6b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
    const stack = fake.addStack({ Name: "trm-git", Type: COMPOSE, EndpointId: 1, Env: [], GitConfig: { URL: "https://git.example/x.git" }, compose: "services: {}\n", webhook });
    await redeploy(pushed, "stage", { webhookUrl: `${fake.url}/api/stacks/webhooks/${webhook}` }, deps(stageConfig("x")));
    expect(fake.webhookRedeploys).toEqual([stack.Id]);

    expect(await redeploy(pushed, "stage", {}, deps(stageConfig("x")))).toBeUndefined();
    expect(lines.at(-1)).toMatch(/no Portainer settings \(PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID; or PORTAINER_WEBHOOK_URL .*\): nothing redeployed/);
  });
});
