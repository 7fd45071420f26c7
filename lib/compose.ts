/**
 * The Portainer stack for stage/prod, rendered from the one service description (lib/services.ts):
 * a compose file that references images by registry name (never a local build) plus the env list
 * Portainer's stack API takes. Secrets appear only in the env list; the compose text refers to
 * every setting as ${VAR}, and compose substitutes it from the env list.
 */
import { stringify } from "yaml";
import { describeServices, goDuration, inStartOrder, type ServiceDescription, type Services, type ServicesConfig } from "./services";
import { DEFAULT_BIND_ADDRESS, DEFAULT_DIRECTUS_HOST_PORT, type StackConfig } from "./stack-config";

/** The render input; a port or interface left out takes the stack config's default. */
export interface PortainerStackInput {
  directusImage: string;
  databaseImage: string;
  database: { name: string; user: string; password: string };
  directus: {
    publicUrl: string;
    adminEmail: string;
    adminPassword: string;
    key: string;
    secret: string;
    schemaApplyMode: string;
    schemaAllowDeletions: boolean;
    hostPort?: number;
    bindAddress?: string;
    projectOwner?: string;
  };
}

export interface PortainerEnvVar {
  name: string;
  value: string;
}

export interface PortainerStack {
  compose: string;
  env: PortainerEnvVar[];
}

/** Env names whose values are secret: only ever in `env`, never in the compose text. */
export const PORTAINER_SECRET_ENV: readonly string[] = describeServices(servicesConfig(placeholderInput()))
  .settings.filter((s) => s.secret)
  .map((s) => s.name);

export function renderPortainerStack(input: PortainerStackInput): PortainerStack {
  const services = describeServices(servicesConfig(input));
  return { compose: renderCompose(services), env: services.settings.map(({ name, value }) => ({ name, value })) };
}

/** The compose text of the services: settings stay ${VAR} references. */
export function renderCompose(services: Services<unknown>): string {
  const compose = {
    services: Object.fromEntries(inStartOrder(services).map((service) => [service.name, composeService(service)])),
    volumes: Object.fromEntries(inStartOrder(services).flatMap((s) => s.volumes.map((v) => [v.volume, {}]))),
  };
  return stringify(compose, { lineWidth: 0 });
}

function composeService(service: ServiceDescription): Record<string, unknown> {
  const ports = service.ports.filter((p) => !p.hostStepsOnly).map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}`);
  const { healthcheck: h } = service;
  return {
    image: service.image,
    restart: service.restart,
    ...(service.init ? { init: true } : {}),
    ...(service.dependsOnHealthy.length
      ? { depends_on: Object.fromEntries(service.dependsOnHealthy.map((name) => [name, { condition: "service_healthy" }])) }
      : {}),
    environment: Object.fromEntries(service.env.map((e) => [e.name, e.value])),
    volumes: service.volumes.map((v) => `${v.volume}:${v.target}`),
    ...(ports.length ? { ports } : {}),
    healthcheck: {
      test: h.test,
      interval: goDuration(h.intervalSeconds),
      timeout: goDuration(h.timeoutSeconds),
      retries: h.retries,
      start_period: goDuration(h.startPeriodSeconds),
    },
  };
}

/** The render input for a validated stack config; Directus runs `directusImage` (default: the config's registryImage). */
export function stackInputFromConfig(config: StackConfig, directusImage = config.registryImage): PortainerStackInput {
  return {
    directusImage,
    databaseImage: config.database.image,
    database: { name: config.database.name, user: config.database.user, password: config.database.password },
    directus: config.directus,
  };
}

function servicesConfig(input: PortainerStackInput): ServicesConfig<string> {
  return {
    directusImage: input.directusImage,
    // The database port is published only for the Pulumi program's host-side steps: the compose leaves it closed.
    database: { ...input.database, image: input.databaseImage, hostPort: 0 },
    directus: {
      ...input.directus,
      hostPort: input.directus.hostPort ?? DEFAULT_DIRECTUS_HOST_PORT,
      bindAddress: input.directus.bindAddress ?? DEFAULT_BIND_ADDRESS,
    },
  };
}

function placeholderInput(): PortainerStackInput {
  const secret = "placeholder";
  return {
    directusImage: "directus",
    databaseImage: "db",
    database: { name: "directus", user: "directus", password: secret },
    directus: { publicUrl: "", adminEmail: "", adminPassword: secret, key: secret, secret, schemaApplyMode: "apply", schemaAllowDeletions: false },
  };
}

/** Replaces the Directus image reference with its digest form (name@sha256:…) when the digest is known. */
export function pinImage(stack: PortainerStack, image: string, digestRef: string | undefined): PortainerStack {
  if (!digestRef) return stack;
  const compose = stack.compose.split("\n").map((line) => (line.trim() === `image: ${image}` ? line.replace(image, digestRef) : line)).join("\n");
  return { ...stack, compose };
}
