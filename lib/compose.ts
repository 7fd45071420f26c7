/**
 * The Portainer stack for stage/prod: a compose file that references images by registry name
 * (never a local build) plus the env list Portainer's stack API takes. Secrets appear only in
 * the env list; the compose text refers to them as ${VAR}.
 */
import { stringify } from "yaml";
import type { StackConfig } from "./stack-config";

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
export const PORTAINER_SECRET_ENV = ["DB_PASSWORD", "ADMIN_PASSWORD", "KEY", "SECRET"] as const;

export function renderPortainerStack(input: PortainerStackInput): PortainerStack {
  const env: PortainerEnvVar[] = [
    { name: "DB_DATABASE", value: input.database.name },
    { name: "DB_USER", value: input.database.user },
    { name: "DB_PASSWORD", value: input.database.password },
    { name: "KEY", value: input.directus.key },
    { name: "SECRET", value: input.directus.secret },
    { name: "ADMIN_EMAIL", value: input.directus.adminEmail },
    { name: "ADMIN_PASSWORD", value: input.directus.adminPassword },
    { name: "PUBLIC_URL", value: input.directus.publicUrl },
    { name: "SCHEMA_APPLY_MODE", value: input.directus.schemaApplyMode },
    { name: "SCHEMA_ALLOW_DELETIONS", value: String(input.directus.schemaAllowDeletions) },
  ];
  const fromEnv = (name: string) => `\${${name}}`;
  const compose = {
    services: {
      db: {
        image: input.databaseImage,
        restart: "unless-stopped",
        environment: {
          POSTGRES_DB: fromEnv("DB_DATABASE"),
          POSTGRES_USER: fromEnv("DB_USER"),
          POSTGRES_PASSWORD: fromEnv("DB_PASSWORD"),
          PGDATA: "/home/postgres/pgdata/data",
          TIMESCALEDB_TELEMETRY: "off",
        },
        volumes: ["pgdata:/home/postgres/pgdata/data"],
        healthcheck: {
          test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", fromEnv("DB_USER"), "-d", fromEnv("DB_DATABASE")],
          interval: "5s",
          timeout: "5s",
          retries: 60,
          start_period: "120s",
        },
      },
      directus: {
        image: input.directusImage,
        restart: "unless-stopped",
        init: true,
        depends_on: { db: { condition: "service_healthy" } },
        environment: {
          DB_CLIENT: "pg",
          DB_HOST: "db",
          DB_PORT: "5432",
          ...Object.fromEntries(env.map((e) => [e.name, fromEnv(e.name)])),
          TELEMETRY: "false",
        },
        volumes: ["uploads:/directus/uploads"],
        ports: ["8055:8055"],
        healthcheck: {
          test: DIRECTUS_HEALTHCHECK,
          interval: "10s",
          timeout: "5s",
          retries: 3,
          start_period: "180s",
        },
      },
    },
    volumes: { pgdata: {}, uploads: {} },
  };
  return { compose: stringify(compose, { lineWidth: 0 }), env };
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

/** Healthy when /server/health says ok; uses the image's own Node (no curl/wget assumed). */
export const DIRECTUS_HEALTHCHECK = [
  "CMD",
  "node",
  "-e",
  "fetch('http://127.0.0.1:8055/server/health').then(r => r.json()).then(h => process.exit(h.status === 'ok' ? 0 : 1), () => process.exit(1))",
];

/** Replaces the Directus image reference with its digest form (name@sha256:…) when the digest is known. */
export function pinImage(stack: PortainerStack, image: string, digestRef: string | undefined): PortainerStack {
  if (!digestRef) return stack;
  const compose = stack.compose.split("\n").map((line) => (line.trim() === `image: ${image}` ? line.replace(image, digestRef) : line)).join("\n");
  return { ...stack, compose };
}

