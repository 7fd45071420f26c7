/**
 * The one service description (lib/services.ts) and its plain renderings, without Pulumi: the
 * compose text (lib/compose.ts) and the plain-Docker stack's `docker run` (tools/plain-docker-stack.ts)
 * carry the same env, healthcheck, volumes and ports; the bind address and project owner settings.
 */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { PORTAINER_SECRET_ENV, renderCompose, renderPortainerStack, stackInputFromConfig } from "../lib/compose";
import { describeServices, resolveEnv, resolveHealthTest, substitute, type ServicesConfig } from "../lib/services";
import { validateStackConfig } from "../lib/stack-config";
import { dockerRunArgs } from "../tools/plain-docker-stack";

const SECRETS = {
  adminPassword: "Rally-Tr4ck-2026x",
  dbPassword: "db-pass-0123456789",
  directusKey: "k".repeat(16) + "0123456789abcdef",
  directusSecret: "s".repeat(16) + "0123456789abcdef",
};
const config = (extra: Record<string, string> = {}) => validateStackConfig("stage", { adminEmail: "admin@trm.dev", ...SECRETS, ...extra });
const servicesOf = (extra: Record<string, string> = {}) => {
  const c = config(extra);
  return describeServices<string>({ ...c, directusImage: c.registryImage } satisfies ServicesConfig<string>);
};

describe("the service description", () => {
  it("flags exactly the env entries that carry a secret", () => {
    const services = servicesOf();
    const secretEnv = (name: "db" | "directus") => services[name].env.filter((e) => e.secret).map((e) => e.name);
    expect(secretEnv("db")).toEqual(["POSTGRES_PASSWORD"]);
    expect(secretEnv("directus")).toEqual(["DB_PASSWORD", "KEY", "SECRET", "ADMIN_PASSWORD"]);
    expect([...PORTAINER_SECRET_ENV].sort()).toEqual(["ADMIN_PASSWORD", "DB_PASSWORD", "KEY", "SECRET"]);
  });

  it("publishes Directus on 127.0.0.1 unless the stack config binds it elsewhere", () => {
    expect(servicesOf().directus.ports).toEqual([{ containerPort: 8055, hostPort: 8055, hostIp: "127.0.0.1", hostStepsOnly: false }]);
    expect(servicesOf({ directusBindAddress: "0.0.0.0", directusPort: "18055" }).directus.ports[0]).toMatchObject({ hostIp: "0.0.0.0", hostPort: 18055 });
    expect(servicesOf().db.ports).toEqual([{ containerPort: 5432, hostPort: 54320, hostIp: "127.0.0.1", hostStepsOnly: true }]);
  });

  it("sets PROJECT_OWNER only when projectOwner is set", () => {
    expect(servicesOf().directus.env.map((e) => e.name)).not.toContain("PROJECT_OWNER");
    const owned = servicesOf({ projectOwner: "owner@trm.dev" });
    expect(resolveEnv(owned.directus, owned.settings)).toContainEqual({ name: "PROJECT_OWNER", value: "owner@trm.dev", secret: false });
  });

  it("starts the database first and Directus once it is healthy, reachable as db", () => {
    const services = servicesOf();
    expect(services.directus.dependsOnHealthy).toEqual(["db"]);
    expect(services.db.aliases).toEqual(["db"]);
    expect(resolveEnv(services.directus, services.settings)).toContainEqual({ name: "DB_HOST", value: "db", secret: false });
  });

  it("refuses a reference to a setting it does not have", () => {
    expect(() => substitute("${NOPE}", [])).toThrow("${NOPE} references no setting");
  });
});

describe("the bind address and project owner settings", () => {
  it.each([
    ["directusBindAddress", "localhost", /directusBindAddress must be an IPv4 address of the host: 127.0.0.1 \(the default\) keeps Directus local, 0.0.0.0 publishes it/],
    ["directusBindAddress", "256.1.1.1", /directusBindAddress must be an IPv4 address/],
    ["projectOwner", "not-an-email", /projectOwner must be an email address/],
  ])("rejects %s=%s, naming the key", (key, value, message) => {
    expect(() => config({ [key]: value })).toThrow(message);
  });

  it("defaults to 127.0.0.1 and no owner", () => {
    expect(config().directus).toMatchObject({ bindAddress: "127.0.0.1" });
    expect(config().directus.projectOwner).toBeUndefined();
    expect(config({ projectOwner: "owner@trm.dev" }).directus.projectOwner).toBe("owner@trm.dev");
  });
});

describe("the compose text and the plain-Docker stack render the same description", () => {
  const services = servicesOf({ projectOwner: "owner@trm.dev" });
  const compose = parse(renderCompose(services)).services;

  it("compose keeps settings as ${VAR}, never a secret value, and the env list holds them", () => {
    const stack = renderPortainerStack(stackInputFromConfig(config()));
    for (const secret of Object.values(SECRETS)) expect(stack.compose).not.toContain(secret);
    expect(parse(stack.compose).services.directus.environment.KEY).toBe("${KEY}");
    expect(stack.env).toContainEqual({ name: "KEY", value: SECRETS.directusKey });
    expect(parse(stack.compose).services.directus.ports).toEqual(["127.0.0.1:8055:8055"]);
  });

  it.each(["db", "directus"] as const)("%s: env, healthcheck, volumes and ports match", (name) => {
    const service = services[name];
    const args = dockerRunArgs(service, services.settings, "trm-x", "trm-x-net");
    const flag = (f: string) => args.flatMap((a, i) => (a === f ? [args[i + 1]] : []));
    const interpolate = (v: string) => substitute(v, services.settings);
    const composeEnv = Object.entries<string>(compose[name].environment).map(([k, v]) => `${k}=${interpolate(v)}`);
    expect(flag("-e")).toEqual(composeEnv);
    expect(flag("-v")).toEqual(compose[name].volumes.map((v: string) => `trm-x-${v}`));
    const composePorts = compose[name].ports ?? [];
    expect(flag("-p").filter((p) => composePorts.includes(p))).toEqual(composePorts);
    // the healthcheck: the same command, as one shell line for `docker run --health-cmd`
    expect(compose[name].healthcheck.test.map(interpolate)).toEqual(resolveHealthTest(service, services.settings));
    expect(flag("--health-cmd")[0]).toContain(resolveHealthTest(service, services.settings)[1]);
    expect(flag("--health-retries")).toEqual([String(compose[name].healthcheck.retries)]);
    expect(args.includes("--init")).toBe(Boolean(compose[name].init));
  });
});
