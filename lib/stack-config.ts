/**
 * The stack's configuration, read and validated in one place. Every problem is reported at once,
 * naming the config key, before any resource is created (so `pulumi preview` fails cleanly).
 * Every key is documented in Pulumi.yaml.
 */
import { z } from "zod";
import { isPort } from "./db/settings";
import { decideReach, REACH_SETTINGS, type ProgramHost, type ReachSetting } from "./reach";

export const SCHEMA_APPLY_MODES = ["apply", "dry-run", "skip"] as const;

export interface StackConfig {
  stack: string;
  /** Prefix of every physical name (containers, network, volumes), so stacks coexist on one Docker host. */
  namePrefix: string;
  database: {
    image: string;
    name: string;
    user: string;
    password: string;
    /** Published on 127.0.0.1 only. */
    hostPort: number;
    postgis: boolean;
  };
  directus: {
    hostPort: number;
    /** Host interface the Directus port is published on: 127.0.0.1 unless a public bind is set. */
    bindAddress: string;
    publicUrl: string;
    adminEmail: string;
    adminPassword: string;
    key: string;
    secret: string;
    schemaApplyMode: (typeof SCHEMA_APPLY_MODES)[number];
    schemaAllowDeletions: boolean;
    /** PROJECT_OWNER: the email a fresh instance's bootstrap records as project owner. */
    projectOwner?: string;
  };
  /** Registry name Portainer pulls (the CI workflow pushes it). */
  registryImage: string;
  /** Seed file to load after the migrations; undefined disables the seed. */
  seedFile?: string;
  /** Keep data and uploads volumes (and the seeded items in them) on `pulumi destroy`. */
  retainVolumes: boolean;
  /** pg_dump the database to backups/ before `pulumi destroy` removes its container. */
  backupOnDestroy: boolean;
  /** How the program reaches the containers it creates (lib/reach.ts). */
  reachContainersBy: ReachSetting;
}

/** Raw values as `pulumi config` holds them (strings), secrets already decrypted. */
export type RawStackConfig = Record<string, string | undefined>;

export const CONFIG_KEYS = [
  "adminEmail",
  "adminPassword",
  "dbPassword",
  "directusKey",
  "directusSecret",
  "dbName",
  "dbUser",
  "dbPort",
  "directusPort",
  "directusBindAddress",
  "publicUrl",
  "projectOwner",
  "databaseImage",
  "registryImage",
  "postgis",
  "seedFile",
  "schemaApplyMode",
  "schemaAllowDeletions",
  "retainVolumes",
  "backupOnDestroy",
  "reachContainersBy",
] as const;

export const SECRET_KEYS = ["adminPassword", "dbPassword", "directusKey", "directusSecret"] as const;

export const DEFAULT_DATABASE_IMAGE = "timescale/timescaledb-ha:pg16.6-ts2.17.2-all";
export const DEFAULT_REGISTRY_IMAGE = "git.dev.microservices.al/trm/directus:main";
export const DEFAULT_SEED_FILE = "seed/rally-albania-2026.yaml";
export const DEFAULT_BIND_ADDRESS = "127.0.0.1";
export const DEFAULT_DIRECTUS_HOST_PORT = 8055;
const MIN_PASSWORD_LENGTH = 12;
const MIN_KEY_LENGTH = 32;
const FLOATING_TAGS = new Set(["latest", "pg16-latest", "main", "master", "stable"]);

export class StackConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: string[],
  ) {
    super(
      `stack "${stack}": ${problems.length} configuration problem${problems.length > 1 ? "s" : ""}, nothing was created:\n` +
        problems.map((p) => `- ${p}`).join("\n") +
        `\nSet values with \`pulumi config set trm-directus:<key> <value>\` (add --secret for secrets).`,
    );
    this.name = "StackConfigError";
  }
}

const bool = (key: string) =>
  z.enum(["true", "false"], { error: `${key} must be true or false` }).transform((v) => v === "true");

const port = (key: string) =>
  z.coerce.number({ error: `${key} must be a port number` }).refine(isPort, `${key} must be a port number (1-65535)`);

const secret = (key: string, minLength: number, what: string) =>
  z
    .string({ error: `${key} is required: pulumi config set --secret trm-directus:${key} <${what}> (npm run dev generates it)` })
    .min(minLength, `${key} is too short: at least ${minLength} characters`);

const imageRef = (key: string, pinned: boolean) =>
  z
    .string()
    .regex(
      /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
      `${key} is not a valid image reference (registry/name:tag)`,
    )
    .refine((ref) => !pinned || isPinned(ref), `${key} must be pinned to an exact tag or digest, not a floating tag`);

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const bindAddress = (key: string) =>
  z
    .string()
    .regex(
      IPV4,
      `${key} must be an IPv4 address of the host: 127.0.0.1 (the default) keeps Directus local, 0.0.0.0 publishes it on every interface`,
    );

function isPinned(ref: string): boolean {
  if (ref.includes("@sha256:")) return true;
  const tag = /:([^/:]+)$/.exec(ref)?.[1];
  return tag !== undefined && !FLOATING_TAGS.has(tag);
}

function schemaFor(stack: string) {
  return z
    .strictObject({
      adminEmail: z.email("adminEmail must be an email address"),
      adminPassword: secret("adminPassword", MIN_PASSWORD_LENGTH, "password").refine(
        (p) => !isWeakPassword(p),
        "adminPassword is too weak: use letters and digits, not a single repeated or common word",
      ),
      dbPassword: secret("dbPassword", MIN_PASSWORD_LENGTH, "password"),
      directusKey: secret("directusKey", MIN_KEY_LENGTH, "random key"),
      directusSecret: secret("directusSecret", MIN_KEY_LENGTH, "random secret"),
      dbName: z.string().regex(/^[a-z_][a-z0-9_]*$/, "dbName must be a lowercase identifier").default("directus"),
      dbUser: z.string().regex(/^[a-z_][a-z0-9_]*$/, "dbUser must be a lowercase identifier").default("directus"),
      dbPort: port("dbPort").default(54320),
      directusPort: port("directusPort").default(DEFAULT_DIRECTUS_HOST_PORT),
      directusBindAddress: bindAddress("directusBindAddress").default(DEFAULT_BIND_ADDRESS),
      projectOwner: z.union([z.literal(""), z.email("projectOwner must be an email address (or empty)")]).default(""),
      publicUrl: z.union([z.literal(""), z.url("publicUrl must be a URL")]).default(""),
      databaseImage: imageRef("databaseImage", true).default(DEFAULT_DATABASE_IMAGE),
      registryImage: imageRef("registryImage", false).default(DEFAULT_REGISTRY_IMAGE),
      postgis: bool("postgis").default(false),
      seedFile: z.string().default(DEFAULT_SEED_FILE),
      schemaApplyMode: z.enum(SCHEMA_APPLY_MODES, { error: `schemaApplyMode must be one of ${SCHEMA_APPLY_MODES.join(", ")}` }).default("apply"),
      schemaAllowDeletions: bool("schemaAllowDeletions").default(false),
      retainVolumes: bool("retainVolumes").default(true),
      backupOnDestroy: bool("backupOnDestroy").default(true),
      reachContainersBy: z.enum(REACH_SETTINGS, { error: `reachContainersBy must be one of ${REACH_SETTINGS.join(", ")}` }).default("auto"),
    })
    .transform(
      (c): StackConfig => ({
        stack,
        namePrefix: `trm-${stack}`,
        database: {
          image: c.databaseImage,
          name: c.dbName,
          user: c.dbUser,
          password: c.dbPassword,
          hostPort: c.dbPort,
          postgis: c.postgis,
        },
        directus: {
          hostPort: c.directusPort,
          bindAddress: c.directusBindAddress,
          publicUrl: c.publicUrl || `http://localhost:${c.directusPort}`,
          adminEmail: c.adminEmail,
          adminPassword: c.adminPassword,
          key: c.directusKey,
          secret: c.directusSecret,
          schemaApplyMode: c.schemaApplyMode,
          schemaAllowDeletions: c.schemaAllowDeletions,
          ...(c.projectOwner ? { projectOwner: c.projectOwner } : {}),
        },
        registryImage: c.registryImage,
        seedFile: c.seedFile === "" ? undefined : c.seedFile,
        retainVolumes: c.retainVolumes,
        backupOnDestroy: c.backupOnDestroy,
        reachContainersBy: c.reachContainersBy,
      }),
    );
}

/**
 * Validates raw config values; throws one StackConfigError listing every problem by key. With `host`
 * (where the program runs: lib/reach.ts probeProgramHost), reachContainersBy is checked against it too.
 */
export function validateStackConfig(stack: string, raw: RawStackConfig, host?: ProgramHost): StackConfig {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = schemaFor(stack).safeParse(defined);
  // Checks across keys run even when single keys are malformed, so one run reports everything.
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map(describeIssue)),
    ...crossKeyProblems(defined),
    ...(host ? reachProblems(defined.reachContainersBy ?? "auto", host) : []),
  ];
  if (parsed.success && problems.length === 0) return parsed.data;
  throw new StackConfigError(stack, problems);
}

function crossKeyProblems(raw: RawStackConfig): string[] {
  const problems: string[] = [];
  const dbPort = raw.dbPort ?? "54320";
  if (dbPort === (raw.directusPort ?? String(DEFAULT_DIRECTUS_HOST_PORT))) problems.push(`dbPort and directusPort are both ${dbPort}: give each its own port`);
  if (raw.directusKey !== undefined && raw.directusKey === raw.directusSecret) problems.push("directusKey and directusSecret must differ");
  return problems;
}

/** Whether the setting can work where the program runs (an unknown value is the schema's problem). */
function reachProblems(setting: string, host: ProgramHost): string[] {
  if (!(REACH_SETTINGS as readonly string[]).includes(setting)) return [];
  const decided = decideReach(setting as ReachSetting, host);
  return "problem" in decided ? [decided.problem] : [];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join(".");
  if (issue.code === "unrecognized_keys") return `unknown config key(s): ${issue.keys.join(", ")} (see Pulumi.yaml)`;
  return issue.message.startsWith(key) || !key ? issue.message : `${key}: ${issue.message}`;
}

function isWeakPassword(password: string): boolean {
  const lower = password.toLowerCase();
  return (
    new Set(password).size < 6 ||
    !/[a-z]/i.test(password) ||
    !/[0-9]/.test(password) ||
    ["password", "directus", "admin", "changeme", "12345678", "qwerty"].some((w) => lower.includes(w))
  );
}
