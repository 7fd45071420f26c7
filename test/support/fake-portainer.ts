/**
 * An HTTP fake of Portainer CE 2.23's API as far as this project uses it, modelled on its handlers
 * (api/http/handler/stacks, users/admin_check, endpoints, the bouncer, the Docker proxy of
 * api/http/handler/endpointproxy). Its Docker host is one of two:
 * - simulated (the default): pulls from `registry` (what registries it reaches serve) and has
 *   `hostImages` (local builds); each Directus container plays the states its image is given
 *   (`directusPlays`), read through the Docker proxy as Docker's API shows them;
 * - real (`realDocker`): stacks are created and updated with the real docker compose binary as
 *   Portainer 2.23 runs it (`-f <file> --project-name <name> --env-file stack.env up -d`), and the
 *   Docker proxy forwards to the local daemon's socket. One difference: where no registry answers
 *   (CI), an update's pull is skipped when the host already has every image of the compose text.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parse } from "yaml";
import type { PortainerEnvVar } from "../../lib/compose";
import { normalizeStackName } from "../../lib/portainer";

export interface FakeStack {
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
  raw?: Buffer;
}

/** One state a simulated container shows, held for `polls` inspections (the last one forever). */
export interface PlayedState {
  Status: "running" | "restarting" | "exited";
  Health?: "starting" | "healthy" | "unhealthy";
  RestartCount?: number;
  ExitCode?: number;
  polls?: number;
}

export interface DirectusPlay {
  states: PlayedState[];
  logs: string[];
}

interface SimulatedContainer {
  Id: string;
  project: string;
  service: string;
  image: string;
  created: string;
  play: DirectusPlay;
  inspections: number;
}

export interface RealDocker {
  /** The dir holding the docker-compose binary (bash scripts/ci-tools.sh prints it). */
  composeBin: string;
  /** Where stack files go, one folder per stack (Portainer's /data/compose/<id>). */
  workDir: string;
  socket?: string;
}

export const COMPOSE = 2;
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

export const repositoryOf = (image: string) => image.replace(/@sha256:[a-f0-9]+$/, "").replace(/:[^/:]+$/, "");

export class FakePortainer {
  readonly requests: { method: string; path: string; body: any }[] = [];
  readonly stacks: FakeStack[] = [];
  readonly registry = new Set<string>();
  readonly hostImages = new Set<string>();
  readonly pulls: number[] = [];
  readonly webhookRedeploys: number[] = [];
  /** Simulated host: how the Directus container of each image behaves (default: healthy at once). */
  readonly directusPlays = new Map<string, DirectusPlay>();
  /** Simulated host: an update whose compose text runs this image fails with this message. */
  readonly failingUpdates = new Map<string, string>();
  readonly containers: SimulatedContainer[] = [];
  url = "";
  private admin = false;
  private nextId = 1;
  private readonly keys = new Set<string>();
  private readonly environments = new Map<number, string>();
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  constructor(private readonly realDocker?: RealDocker) {}

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

  /** Removes what the real Docker host runs for the fake's stacks (`docker compose down -v`). */
  tearDown(): void {
    if (!this.realDocker) return;
    for (const stack of this.stacks) this.compose(stack.Name, ["down", "--volumes", "--remove-orphans"]);
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      const url = new URL(req.url!, this.url);
      const body = text ? JSON.parse(text) : undefined;
      this.requests.push({ method: req.method!, path: `${url.pathname}${url.search}`, body });
      const denied = this.authenticateUnlessPublic(req.method!, url.pathname, req.headers["x-api-key"] as string | undefined);
      const docker = /^\/api\/endpoints\/(\d+)\/docker(\/.*)$/.exec(url.pathname);
      if (!denied && docker && this.realDocker) return this.forwardToDocker(req.method!, `${docker[2]}${url.search}`, res);
      const answer = denied ?? this.route(req.method!, url, body);
      res.writeHead(answer.status, { "Content-Type": answer.raw ? "application/vnd.docker.multiplexed-stream" : "application/json" });
      res.end(answer.raw ?? (answer.json === undefined ? undefined : JSON.stringify(answer.json)));
    });
  }

  private authenticateUnlessPublic(method: string, path: string, apiKey: string | undefined): Answer | undefined {
    if (method === "GET" && path === "/api/users/admin/check") return undefined;
    if (method === "POST" && path.startsWith("/api/stacks/webhooks/")) return undefined;
    // The bouncer: an unknown X-API-Key fails its lookup ("Invalid JWT token"), none at all is missing.
    if (!apiKey) return failure(401, "A valid authorization token is missing", "Unauthorized");
    if (!this.keys.has(apiKey)) return failure(401, "Invalid JWT token", "Unauthorized");
    return undefined;
  }

  private route(method: string, url: URL, body: unknown): Answer {
    const path = url.pathname;
    if (method === "GET" && path === "/api/users/admin/check") {
      return this.admin ? { status: 204 } : failure(404, "No administrator account found inside the database", OBJECT_NOT_FOUND);
    }
    const webhook = /^\/api\/stacks\/webhooks\/([^/]+)$/.exec(path);
    if (method === "POST" && webhook) return this.invokeWebhook(webhook[1]);
    if (method === "GET" && path === "/api/endpoints") return { status: 200, json: [...this.environments].map(([Id, Name]) => ({ Id, Name })) };
    const endpoint = /^\/api\/endpoints\/(\d+)$/.exec(path);
    if (method === "GET" && endpoint) return this.inspectEnvironment(Number(endpoint[1]));
    const docker = /^\/api\/endpoints\/(\d+)\/docker(\/.*)$/.exec(path);
    if (method === "GET" && docker) return this.simulatedDocker(docker[2], url.searchParams);
    if (method === "GET" && path === "/api/stacks") return { status: 200, json: this.stacks.map(listed) };
    if (method === "POST" && path === "/api/stacks/create/standalone/string") return this.createFromString(url, body);
    const stack = /^\/api\/stacks\/(\d+)(\/file)?$/.exec(path);
    if (method === "GET" && stack) return this.inspectStack(Number(stack[1]), stack[2] !== undefined);
    if (method === "PUT" && stack && !stack[2]) return this.update(Number(stack[1]), url, body);
    return { status: 404, json: { message: "404 page not found" } };
  }

  private inspectEnvironment(id: number): Answer {
    const name = this.environments.get(id);
    if (name === undefined) return failure(404, "Unable to find an environment with the specified identifier inside the database", OBJECT_NOT_FOUND);
    return { status: 200, json: { Id: id, Name: name } };
  }

  /** GET /api/stacks/{id} (the stack) and /api/stacks/{id}/file (`{ StackFileContent }`, stack_file.go). */
  private inspectStack(id: number, file: boolean): Answer {
    const stack = this.stacks.find((s) => s.Id === id);
    if (!stack) return failure(404, "Unable to find a stack with the specified identifier inside the database", OBJECT_NOT_FOUND);
    return { status: 200, json: file ? { StackFileContent: stack.compose } : listed(stack) };
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
    const upFailure = this.composeUp(name, payload.StackFileContent, payload.Env ?? []);
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
      const pullFailure = this.pull(stack.Name, payload.StackFileContent, payload.Env ?? []);
      if (pullFailure) return failure(500, `failed to pull images of the stack: ${pullFailure}`);
      this.pulls.push(stack.Id);
    }
    const upFailure = this.composeUp(stack.Name, payload.StackFileContent, payload.Env ?? []);
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

  /** `docker compose up -d`: pulls what the host lacks, (re)creates the containers whose image changed. */
  private composeUp(project: string, compose: string, env: PortainerEnvVar[]): string | undefined {
    if (this.realDocker) return this.compose(project, ["up", "-d"], compose, env);
    const services = parse(compose).services as Record<string, { image: string }>;
    const failing = Object.values(services).map((s) => this.failingUpdates.get(s.image)).find(Boolean);
    if (failing) return failing;
    const pullFailure = this.simulatedPull(compose, [...this.registry, ...this.hostImages], [...this.hostImages]);
    if (pullFailure) return pullFailure;
    for (const [service, { image }] of Object.entries(services)) this.recreate(project, service, image);
    return undefined;
  }

  private pull(project: string, compose: string, env: PortainerEnvVar[]): string | undefined {
    if (this.realDocker) {
      const images = Object.values(parse(compose).services as Record<string, { image: string }>).map((s) => s.image);
      const missing = images.filter((image) => spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0);
      return missing.length === 0 ? undefined : this.compose(project, ["pull"], compose, env);
    }
    return this.simulatedPull(compose, [...this.registry]);
  }

  /** `docker compose pull`'s stderr for the images `available` lacks (skipping `present` ones), else undefined. */
  private simulatedPull(compose: string, available: string[], present: string[] = []): string | undefined {
    const services = parse(compose).services as Record<string, { image: string }>;
    const failed = Object.entries(services).filter(([, s]) => !present.includes(s.image) && !available.includes(s.image));
    if (failed.length === 0) return undefined;
    const reason = (image: string) =>
      [...this.registry].some((served) => repositoryOf(served) === repositoryOf(image))
        ? `manifest for ${image} not found: manifest unknown: manifest unknown`
        : `pull access denied for ${repositoryOf(image)}, repository does not exist or may require 'docker login'`;
    // compose repeats the first failure's reason on the line of every service it was pulling
    const first = reason(failed[0][1].image);
    const lines = Object.keys(services).map((service) => ` ${service} Error ${first}`);
    return [...lines, `Error response from daemon: ${first}`].join("\n");
  }

  private recreate(project: string, service: string, image: string): void {
    const current = this.containers.findIndex((c) => c.project === project && c.service === service);
    if (current >= 0 && this.containers[current].image === image) return;
    if (current >= 0) this.containers.splice(current, 1);
    const play = this.directusPlays.get(image) ?? { states: [{ Status: "running", Health: "healthy" }], logs: [] };
    this.containers.push({ Id: randomBytes(32).toString("hex"), project, service, image, created: new Date(Date.now() + this.containers.length).toISOString(), play, inspections: 0 });
  }

  /** The Docker API calls the rollout makes: list by labels, inspect, logs (multiplexed, no TTY). */
  private simulatedDocker(path: string, query: URLSearchParams): Answer {
    if (path === "/containers/json") {
      const labels: string[] = JSON.parse(query.get("filters") ?? "{}").label ?? [];
      const matches = this.containers.filter((c) => labels.every((l) => l === `com.docker.compose.project=${c.project}` || l === `com.docker.compose.service=${c.service}`));
      return { status: 200, json: matches.map((c) => ({ Id: c.Id, Image: c.image, Labels: this.labelsOf(c) })) };
    }
    const container = /^\/containers\/([0-9a-f]+)\/(json|logs)$/.exec(path);
    const found = container && this.containers.find((c) => c.Id === container[1]);
    if (!found) return { status: 404, json: { message: `No such container: ${container?.[1]}` } };
    if (container![2] === "logs") return { status: 200, raw: multiplex(found.play.logs.slice(-Number(query.get("tail") ?? "all"))) };
    return { status: 200, json: this.inspect(found) };
  }

  private inspect(c: SimulatedContainer) {
    c.inspections++;
    let seen = 0;
    const state = c.play.states.find((s) => (seen += s.polls ?? 1) >= c.inspections) ?? c.play.states.at(-1)!;
    return {
      Id: c.Id,
      Name: `/${c.project}-${c.service}-1`,
      Created: c.created,
      RestartCount: state.RestartCount ?? 0,
      Image: `sha256:${"0".repeat(64)}`,
      Config: { Image: c.image, Tty: false, Labels: this.labelsOf(c) },
      State: { Status: state.Status, ExitCode: state.ExitCode ?? 0, ...(state.Health ? { Health: { Status: state.Health } } : {}) },
    };
  }

  private labelsOf(c: SimulatedContainer): Record<string, string> {
    return { "com.docker.compose.project": c.project, "com.docker.compose.service": c.service };
  }

  /** Runs the real docker compose as Portainer 2.23 does; its stderr on failure. */
  private compose(project: string, args: string[], compose?: string, env: PortainerEnvVar[] = []): string | undefined {
    const dir = path.join(this.realDocker!.workDir, project);
    mkdirSync(dir, { recursive: true });
    if (compose !== undefined) {
      writeFileSync(path.join(dir, "docker-compose.yml"), compose);
      writeFileSync(path.join(dir, "stack.env"), env.map((e) => `${e.name}=${e.value}\n`).join(""), { mode: 0o600 });
    }
    const run = spawnSync(
      path.join(this.realDocker!.composeBin, "docker-compose"),
      ["-f", "docker-compose.yml", "--project-name", project, "--env-file", "stack.env", "--project-directory", dir, ...args],
      { cwd: dir, encoding: "utf8", env: { ...process.env, DOCKER_HOST: `unix://${this.realDocker!.socket ?? "/var/run/docker.sock"}` } },
    );
    return run.status === 0 ? undefined : run.stderr || `docker compose ${args[0]} exited with ${run.status}`;
  }

  /** Portainer's Docker proxy: the request passed to the host's Docker API as it is. */
  private forwardToDocker(method: string, pathAndQuery: string, res: http.ServerResponse): void {
    const upstream = http.request({ socketPath: this.realDocker!.socket ?? "/var/run/docker.sock", path: pathAndQuery, method }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      res.writeHead(502, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "Unable to proxy the request via the Docker socket", details: error.message }));
    });
    upstream.end();
  }
}

/** Docker's multiplexed log stream: per line an 8-byte header (1 = stdout, length big-endian) and the line. */
export function multiplex(lines: string[], stream = 1): Buffer {
  return Buffer.concat(
    lines.map((line) => {
      const payload = Buffer.from(`${line}\n`);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    }),
  );
}

/** A stack as GET /api/stacks shows it (the stack file is not in it). */
function listed({ compose: _compose, webhook: _webhook, ...stack }: FakeStack) {
  return stack;
}
