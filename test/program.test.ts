/**
 * The Pulumi program's resource graph under Pulumi mocks: types and counts, wiring and order,
 * secrets, configuration errors and the Portainer stack output. The program is imported only
 * after setMocks, once per configuration (vi.resetModules).
 */
import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIG_KEYS, validateStackConfig, StackConfigError } from "../lib/stack-config";
import type { ProgramHost } from "../lib/reach";
import { goDuration } from "../lib/container-health";
import { renderPortainerStack, stackInputFromConfig } from "../lib/compose";
import { REPO_ROOT } from "./support/cli";
import { createRequire } from "node:module";

const nodeRequire = createRequire(__filename);
// What the Pulumi language host does for a TypeScript program.
nodeRequire("ts-node").register({ transpileOnly: true, project: path.join(REPO_ROOT, "tsconfig.json") });

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  urn: string;
  /** Resources whose registration had completed when this one was registered: its upstream. */
  after: Set<string>;
}

const SECRETS = {
  adminPassword: "Rally-Tr4ck-2026x",
  dbPassword: "db-pass-0123456789",
  directusKey: "k".repeat(16) + "0123456789abcdef",
  directusSecret: "s".repeat(16) + "0123456789abcdef",
};

function stackConfig(stack: string, overrides: Record<string, string> = {}): Record<string, string> {
  const file = parse(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")).config as Record<string, string>;
  const secrets = Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [`trm-directus:${k}`, v]));
  return { ...file, ...secrets, ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`trm-directus:${k}`, v])) };
}

/** Where the program is taken to run (lib/reach.ts probes it for real): the same answer wherever the tests run, a CI job container too. */
const ON_THE_HOST: ProgramHost = { note: "not in a container" };

/**
 * Runs the program under mocks. A container's registration takes `containerMs` (it is created healthy,
 * the slowest step for real too); the ordering test makes it longer than the program's own work, so
 * what registers before a container completes does not wait for it.
 */
async function runProgram(stack: string, overrides: Record<string, string> = {}, host: ProgramHost = ON_THE_HOST, containerMs = 50) {
  const resources: Recorded[] = [];
  const completed = new Set<string>();
  pulumi.runtime.setAllConfig(stackConfig(stack, overrides), Object.keys(SECRETS).map((k) => `trm-directus:${k}`));
  await pulumi.runtime.setMocks(
    {
      // Each registration takes a moment, so a resource registered before its upstream finished
      // (a missing dependsOn or input) would show up: `after` holds what had completed by then.
      async newResource(args) {
        const urn = `urn:pulumi:${stack}::trm-directus::${args.type}::${args.name}`;
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, urn, after: new Set(completed) });
        await new Promise((r) => setTimeout(r, args.type === "docker:index/container:Container" ? containerMs : 5));
        completed.add(args.name);
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/image:Image") state.repoDigest = "sha256:" + "a".repeat(64);
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = "sha256:" + "b".repeat(64);
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`unexpected call to ${args.token}: mock it`);
      },
    },
    "trm-directus",
    stack,
    true,
  );
  const program = await loadProgram(host)();
  await pulumi.runtime.disconnect(); // every registration of this run has settled
  return { program, resources };
}

/**
 * Loads index.ts through Node's own CommonJS loader with ts-node, as Pulumi's language host does,
 * not through vitest: the dynamic providers must survive Pulumi's closure serialization, which
 * vitest's module transform breaks. Project modules are evicted first so each run starts fresh.
 */
function loadProgram(host: ProgramHost): typeof import("../index") {
  for (const id of Object.keys(nodeRequire.cache)) {
    if (id.startsWith(REPO_ROOT) && !id.includes("node_modules")) delete nodeRequire.cache[id];
  }
  nodeRequire(path.join(REPO_ROOT, "lib/reach.ts")).probeProgramHost = () => host;
  return nodeRequire(path.join(REPO_ROOT, "index.ts"));
}

function outputValue<T>(output: pulumi.Output<T> | T): Promise<T> {
  return new Promise((resolve) => (pulumi.Output.isInstance(output) ? (output as pulumi.Output<T>).apply(resolve) : resolve(output as T)));
}

async function isSecret(output: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(output) ? await pulumi.isSecret(output as pulumi.Output<unknown>) : false;
}

/** The mock monitor sees a secret input as { <signature>: <secret marker>, value }. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecretInput = (value: any) => value !== null && typeof value === "object" && SECRET_SIG in value;
const plain = (value: any) => (isSecretInput(value) ? value.value : value);

const byType = (resources: Recorded[], type: string) => resources.filter((r) => r.type === type);
const one = (resources: Recorded[], name: string) => {
  const found = resources.filter((r) => r.name === name);
  expect(found, name).toHaveLength(1);
  return found[0];
};

describe("the program's modules", () => {
  // Pulumi serializes the dynamic providers with what they capture; under tsx's module interop a
  // built-in imported by default comes out as `require("path").default`, which is undefined.
  it("import Node's built-ins as namespaces or by name, never by default", () => {
    const modules = ["index.ts", ...["components", "lib"].flatMap((dir) => readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f)))];
    const offenders = modules.flatMap((file) =>
      [...readFileSync(path.join(REPO_ROOT, file), "utf8").matchAll(/^import (\w+)(?:, \{[^}]*\})? from "(node:[\w/]+)";$/gm)].map((m) => `${file}: import ${m[1]} from "${m[2]}"`),
    );
    expect(offenders, "write `import * as x from \"node:x\"` or `import { y } from \"node:x\"`").toEqual([]);
    expect(modules.length).toBeGreaterThan(40);
  });
});

describe("the Pulumi program (mocks)", () => {
  let dev: Awaited<ReturnType<typeof runProgram>>;
  beforeAll(async () => {
    dev = await runProgram("dev", {}, ON_THE_HOST, 3000);
    // let every registration settle
    await outputValue(dev.program.portainerStack.compose);
  }, 60_000);

  it("creates the expected resources, one component per concern", () => {
    const counts = Object.fromEntries(
      [...new Set(dev.resources.map((r) => r.type))].map((type) => [type, byType(dev.resources, type).length]),
    );
    expect(counts).toEqual({
      "trm:database:Database": 1,
      "trm:access:StackAccess": 1,
      "pulumi-nodejs:dynamic/docker:Network": 1,
      "pulumi-nodejs:dynamic/docker:ServiceReady": 2,
      "docker:index/volume:Volume": 2,
      "docker:index/remoteImage:RemoteImage": 1,
      "docker:index/container:Container": 2,
      "trm:database:Extensions": 1,
      "pulumi:providers:postgresql": 1,
      "postgresql:index/extension:Extension": 1,
      "pulumi-nodejs:dynamic:Resource": 3,
      "trm:directus:DirectusImage": 1,
      "docker:index/image:Image": 1,
      "trm:directus:DirectusService": 1,
      "trm:database:DatabaseBackup": 1,
      "command:local:Command": 1,
    });
  });

  it("adds the PostGIS extension only when the postgis flag is on", async () => {
    const withPostgis = await runProgram("dev", { postgis: "true" });
    await outputValue(withPostgis.program.portainerStack.compose);
    expect(byType(withPostgis.resources, "postgresql:index/extension:Extension").map((r) => r.inputs.name).sort()).toEqual([
      "postgis",
      "timescaledb",
    ]);
  });

  it("runs the pinned TimescaleDB image with PGDATA on the data volume, published on 127.0.0.1, healthy over TCP", () => {
    const image = one(dev.resources, "database-image");
    expect(image.inputs).toMatchObject({ name: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all", keepLocally: true });
    const db = one(dev.resources, "database-container");
    expect(db.inputs).toMatchObject({
      name: "trm-dev-db",
      volumes: [{ volumeName: "trm-dev-pgdata", containerPath: "/home/postgres/pgdata/data" }],
      ports: [{ internal: 5432, external: 54320, ip: "127.0.0.1" }],
    });
    // `up` waits for the service itself (database-ready), not for Docker's once-a-second health status
    expect(db.inputs.wait).toBeUndefined();
    expect(plain(db.inputs.envs)).toEqual(expect.arrayContaining(["PGDATA=/home/postgres/pgdata/data", "TIMESCALEDB_TELEMETRY=off"]));
    expect(db.inputs.healthcheck.tests).toEqual(["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "directus", "-d", "directus"]);
  });

  it("writes every container healthcheck duration as the docker provider reads it back (Go's format)", () => {
    // "300s" in the program but "5m0s" in state would update both containers on every `pulumi up`.
    const containers = byType(dev.resources, "docker:index/container:Container");
    expect(containers).toHaveLength(2);
    for (const container of containers) {
      const { interval, timeout, startPeriod } = container.inputs.healthcheck;
      for (const duration of [interval, timeout, startPeriod]) {
        expect(goDuration(parseGoDuration(duration)), `${container.name}: ${duration}`).toBe(duration);
      }
    }
    expect(one(dev.resources, "directus-container").inputs.healthcheck.startPeriod).toBe("10m0s");
  });

  it("orders database (ready) → extensions → pre-schema → Directus (image first; ready) → post-schema → seed", () => {
    const upstream = (name: string) => one(dev.resources, name).after;
    expect(upstream("database-ready")).toContain("database-container");
    expect(upstream("extensions-timescaledb")).toContain("database-ready");
    expect(upstream("pre-schema-migrations")).toContain("extensions-timescaledb");
    expect(upstream("directus-container")).toContain("pre-schema-migrations");
    expect(upstream("directus-container")).toContain("directus-image-image");
    expect(upstream("directus-ready")).toContain("directus-container");
    expect(upstream("post-schema-migrations")).toContain("directus-ready");
    expect(upstream("seed")).toContain("post-schema-migrations");
    // the backup is the first thing a destroy deletes: it depends on the seed, the last of the chain
    expect(upstream("database-backup-on-destroy")).toContain("seed");
    // and not more than needed: the image build does not wait for the database
    expect(upstream("directus-image-image")).not.toContain("database-container");
  });

  it("dumps the database on destroy, inside its container, with the password kept secret", () => {
    const backup = one(dev.resources, "database-backup-on-destroy");
    expect(backup.inputs.create).toBeUndefined();
    expect(backup.inputs.delete).toContain("pg_dump");
    expect(backup.inputs.delete).toContain("--format=custom");
    expect(isSecretInput(backup.inputs.environment)).toBe(true);
    expect(plain(backup.inputs.environment)).toMatchObject({
      TRM_BACKUP_DIR: "backups",
      TRM_BACKUP_PREFIX: "dev",
      TRM_DB_CONTAINER: "trm-dev-db",
      PGPASSWORD: SECRETS.dbPassword,
    });
  });

  it("feeds the Directus container from the built image and the database's network", () => {
    const directus = one(dev.resources, "directus-container");
    expect(directus.inputs.image).toBe("sha256:" + "a".repeat(64));
    expect(directus.inputs).toMatchObject({
      name: "trm-dev-directus",
      init: true,
      networksAdvanced: [{ name: "trm-dev-net" }],
      ports: [{ internal: 8055, external: 8055, ip: "127.0.0.1" }],
      volumes: [{ volumeName: "trm-dev-uploads", containerPath: "/directus/uploads" }],
    });
    expect(plain(directus.inputs.envs)).toEqual(expect.arrayContaining(["DB_HOST=db", "DB_PORT=5432", "TELEMETRY=false", "SCHEMA_APPLY_MODE=apply"]));
    // a new database container (a fresh volume) replaces Directus, whose start-up migrates it
    expect(directus.inputs.labels).toEqual([{ label: "org.trm.database-container", value: "database-container-id" }]);
    const built = one(dev.resources, "directus-image-image");
    expect(built.inputs).toMatchObject({
      imageName: "trm-directus:dev",
      skipPush: true,
      // BuildKit: the classic builder, driven through the API, leaves its intermediate containers behind
      build: { context: ".", platform: "linux/amd64", builderVersion: "BuilderBuildKit" },
    });
  });

  it("points the migrations at the right folders and the published port", () => {
    const pre = one(dev.resources, "pre-schema-migrations");
    const post = one(dev.resources, "post-schema-migrations");
    expect(pre.inputs.dirs).toEqual(["db-init"]);
    expect(post.inputs.dirs).toEqual(["db-post"]);
    expect(Object.keys(pre.inputs.files)).toEqual(["001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql"]);
    expect(plain(pre.inputs.db)).toMatchObject({ host: "127.0.0.1", port: 54320, database: "directus", user: "directus" });
  });

  it("waits for each service where the program reaches it, the database's password kept secret", () => {
    const db = one(dev.resources, "database-ready");
    expect(db.inputs).toMatchObject({ containerName: "trm-dev-db", containerId: "database-container-id", timeoutSeconds: 300 });
    expect(isSecretInput(db.inputs.readiness)).toBe(true);
    expect(plain(db.inputs.readiness)).toEqual({
      database: { host: "127.0.0.1", port: 54320, database: "directus", user: "directus", password: SECRETS.dbPassword },
    });
    const directus = one(dev.resources, "directus-ready");
    expect(directus.inputs).toMatchObject({ containerName: "trm-dev-directus", containerId: "directus-container-id", timeoutSeconds: 600 });
    expect(plain(directus.inputs.readiness)).toEqual({ directusUrl: "http://127.0.0.1:8055" });
  });

  it("seeds the Rally Albania items through the Directus URL", () => {
    const seed = one(dev.resources, "seed");
    expect(seed.inputs.url).toBe("http://127.0.0.1:8055");
    expect(seed.inputs.collections.classes.count).toBe(18);
    expect(plain(seed.inputs.credentials)).toMatchObject({ email: "admin@trm.dev" });
  });

  it("keeps secrets secret: container envs, migration and seed credentials, Portainer env", async () => {
    expect(await isSecret(dev.program.portainerStack.env)).toBe(true);
    expect(await isSecret(dev.program.portainerStack.compose)).toBe(false);
    const compose = await outputValue(dev.program.portainerStack.compose);
    for (const secret of Object.values(SECRETS)) expect(compose).not.toContain(secret);
    for (const name of ["database-container", "directus-container"]) {
      expect(isSecretInput(one(dev.resources, name).inputs.envs), name).toBe(true);
    }
    for (const name of ["pre-schema-migrations", "post-schema-migrations"]) {
      expect(isSecretInput(one(dev.resources, name).inputs.db), name).toBe(true);
    }
    expect(isSecretInput(one(dev.resources, "seed").inputs.credentials)).toBe(true);
    expect(isSecretInput(one(dev.resources, "extensions-provider").inputs.password)).toBe(true);
    // Nothing else carries a secret value in plaintext.
    const plaintext = JSON.stringify(dev.resources.map((r) => Object.fromEntries(Object.entries(r.inputs).filter(([, v]) => !isSecretInput(v)))));
    for (const secret of Object.values(SECRETS)) expect(plaintext).not.toContain(secret);
    expect(await isSecret(dev.program.directusUrl)).toBe(false);
  });

  it("exports the outputs Portainer and the scripts use", async () => {
    const p = dev.program;
    expect(await outputValue(p.directusUrl)).toBe("http://127.0.0.1:8055");
    expect(p.adminEmail).toBe("admin@trm.dev");
    expect(await outputValue(p.databasePort)).toBe(54320);
    expect(await outputValue(p.imageId)).toMatch(/^sha256:/);
    expect(await outputValue(p.volumes.data)).toBe("trm-dev-pgdata");
    expect(await outputValue(p.volumes.uploads)).toBe("trm-dev-uploads");
  });

  it("renders a Portainer stack that is a valid compose file referencing no local build", async () => {
    const compose = parse(await outputValue(dev.program.portainerStack.compose));
    expect(Object.keys(compose.services)).toEqual(["db", "directus"]);
    expect(compose.services.directus.image).toBe("git.dev.microservices.al/trm/directus:main");
    expect(compose.services.db.image).toBe("timescale/timescaledb-ha:pg16.6-ts2.17.2-all");
    for (const service of Object.values<any>(compose.services)) expect(service.build).toBeUndefined();
    expect(compose.services.directus.environment.DB_PASSWORD).toBe("${DB_PASSWORD}");
    const env = await outputValue(dev.program.portainerStack.env);
    expect(env.find((e: { name: string }) => e.name === "DB_PASSWORD")?.value).toBe(SECRETS.dbPassword);
  });

  it("the Pulumi containers and the compose Portainer runs carry the same env, healthcheck, volumes, ports, init and restart", async () => {
    const raw = Object.fromEntries(Object.entries(stackConfig("dev")).map(([k, v]) => [k.replace("trm-directus:", ""), v]));
    const portainer = renderPortainerStack(stackInputFromConfig(validateStackConfig("dev", raw)));
    expectSameServices(dev.resources, portainer, "trm-dev");
    // the program's own Portainer output is that same text
    expect(await outputValue(dev.program.portainerStack.compose)).toBe(portainer.compose);
    expect(parse(portainer.compose).services.directus.ports).toEqual(["127.0.0.1:8055:8055"]);
    expect(parse(portainer.compose).services.db.ports).toBeUndefined();
  });

  it("a public bind and a project owner reach the container and the compose alike", async () => {
    const overrides = { directusBindAddress: "0.0.0.0", projectOwner: "owner@trm.dev", directusPort: "18055" };
    const run = await runProgram("dev", overrides);
    await outputValue(run.program.portainerStack.compose);
    const raw = Object.fromEntries(Object.entries(stackConfig("dev", overrides)).map(([k, v]) => [k.replace("trm-directus:", ""), v]));
    const portainer = renderPortainerStack(stackInputFromConfig(validateStackConfig("dev", raw)));
    expectSameServices(run.resources, portainer, "trm-dev");
    expect(one(run.resources, "directus-container").inputs.ports).toEqual([{ internal: 8055, external: 18055, ip: "0.0.0.0" }]);
    expect(plain(one(run.resources, "directus-container").inputs.envs)).toContain("PROJECT_OWNER=owner@trm.dev");
    expect(portainer.env).toContainEqual({ name: "PROJECT_OWNER", value: "owner@trm.dev" });
    expect(await outputValue(run.program.directusUrl)).toBe("http://127.0.0.1:18055");
  });

  it("names dev and ci resources apart so both stacks coexist on one Docker host", async () => {
    const ci = await runProgram("ci");
    await outputValue(ci.program.portainerStack.compose);
    const physical = (r: Awaited<ReturnType<typeof runProgram>>) =>
      r.resources.filter((x) => /^(docker:|pulumi-nodejs:dynamic\/docker:)/.test(x.type) && x.inputs.name && !x.type.includes("Image")).map((x) => x.inputs.name);
    expect(physical(ci).sort()).toEqual(["trm-ci-db", "trm-ci-directus", "trm-ci-net", "trm-ci-pgdata", "trm-ci-uploads"]);
    expect(physical(dev).some((n: string) => physical(ci).includes(n))).toBe(false);
    expect(one(ci.resources, "database-container").inputs.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1" }]);
    // a throwaway database: no dump on destroy
    expect(byType(ci.resources, "command:local:Command")).toHaveLength(0);
  });
});

/**
 * Compares each Pulumi container's inputs with its compose service, ${VAR}s substituted from the
 * env list as compose does: env (names and values), healthcheck, volumes, published ports, init,
 * restart. The compose leaves the database port closed (only the program's host-side steps use it).
 */
function expectSameServices(resources: Recorded[], portainer: { compose: string; env: { name: string; value: string }[] }, prefix: string) {
  const values = new Map(portainer.env.map((e) => [e.name, e.value]));
  const interpolate = (text: string) => text.replace(/\$\{(\w+)\}/g, (_, name: string) => values.get(name) ?? `<unset ${name}>`);
  const compose = parse(portainer.compose).services;
  for (const [service, container] of [["db", "database-container"], ["directus", "directus-container"]]) {
    const inputs = one(resources, container).inputs;
    const spec = compose[service];
    const pulumiEnv = Object.fromEntries((plain(inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const composeEnv = Object.fromEntries(Object.entries<string>(spec.environment).map(([k, v]) => [k, interpolate(v)]));
    expect(Object.keys(pulumiEnv).sort(), `${service} env names`).toEqual(Object.keys(composeEnv).sort());
    expect(pulumiEnv, `${service} env values`).toEqual(composeEnv);
    const h = inputs.healthcheck;
    expect(
      { test: h.tests, interval: h.interval, timeout: h.timeout, retries: h.retries, start_period: h.startPeriod },
      `${service} healthcheck`,
    ).toEqual({ ...spec.healthcheck, test: spec.healthcheck.test.map(interpolate) });
    expect(
      inputs.volumes.map((v: { volumeName: string; containerPath: string }) => `${v.volumeName.replace(`${prefix}-`, "")}:${v.containerPath}`),
      `${service} volumes`,
    ).toEqual(spec.volumes);
    const published = inputs.ports.map((p: { ip: string; external: number; internal: number }) => `${p.ip}:${p.external}:${p.internal}`);
    expect(published, `${service} ports`).toEqual(service === "db" ? ["127.0.0.1:54320:5432"] : spec.ports);
    expect(Boolean(inputs.init), `${service} init`).toBe(Boolean(spec.init));
    expect(inputs.restart, `${service} restart`).toBe(spec.restart);
  }
  expect(compose.directus.depends_on).toEqual({ db: { condition: "service_healthy" } });
}

/** Seconds in a Go duration string such as "1h2m3s"; NaN when it is not one. */
function parseGoDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(text);
  return match ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3]) : NaN;
}

describe("reachContainersBy: how the program reaches the containers (mocks)", () => {
  /** A CI job container of act_runner: its own network, the Docker socket mounted (lib/reach.ts probes this for real). */
  const JOB_CONTAINER: ProgramHost = {
    container: { id: "f".repeat(64), name: "GITEA-ACTIONS-TASK-7_build", networkMode: "GITEA-ACTIONS-TASK-7-network" },
    note: "in container GITEA-ACTIONS-TASK-7_build",
  };
  const HOST_NETWORK: ProgramHost = { container: { ...JOB_CONTAINER.container!, networkMode: "host" }, note: "in container GITEA-ACTIONS-TASK-7_build" };

  it("in a job container (auto): joins the stack's network and reaches the database and Directus by container name, each after the join", async () => {
    const ci = await runProgram("ci", {}, JOB_CONTAINER);
    await outputValue(ci.program.portainerStack.compose);
    const join = one(ci.resources, "access-join");
    expect(join.inputs).toMatchObject({ network: "database-network-id", container: "f".repeat(64) });
    expect(join.after).toContain("database-network");
    const db = one(ci.resources, "database-container").inputs.name;
    const directus = one(ci.resources, "directus-container").inputs.name;
    expect([db, directus]).toEqual(["trm-ci-db", "trm-ci-directus"]);
    expect(one(ci.resources, "extensions-provider").inputs).toMatchObject({ host: db, port: "5432" }); // provider config arrives as strings
    for (const name of ["pre-schema-migrations", "post-schema-migrations"]) expect(plain(one(ci.resources, name).inputs.db)).toMatchObject({ host: db, port: 5432 });
    expect(one(ci.resources, "seed").inputs.url).toBe(`http://${directus}:8055`);
    for (const name of ["extensions-provider", "pre-schema-migrations", "post-schema-migrations", "seed"]) expect(one(ci.resources, name).after, name).toContain("access-join");
    // what npm run stack -- smoke reads
    expect(await outputValue(ci.program.directusUrl)).toBe(`http://${directus}:8055`);
    expect([await outputValue(ci.program.databaseHost), await outputValue(ci.program.databasePort)]).toEqual([db, 5432]);
  });

  it("the containers are the same whichever way they are reached: switching the setting replaces nothing", async () => {
    const [onHost, inJob] = [await runProgram("ci"), await runProgram("ci", {}, JOB_CONTAINER)];
    await outputValue(inJob.program.portainerStack.compose);
    for (const name of ["database-container", "directus-container", "database-network"]) {
      expect(JSON.stringify(one(inJob.resources, name).inputs), name).toBe(JSON.stringify(one(onHost.resources, name).inputs));
    }
    expect(onHost.resources.some((r) => r.name === "access-join")).toBe(false);
  });

  it("on the host's network (act_runner container.network: host): the published ports on 127.0.0.1, no join", async () => {
    const ci = await runProgram("ci", {}, HOST_NETWORK);
    await outputValue(ci.program.portainerStack.compose);
    expect(ci.resources.some((r) => r.name === "access-join")).toBe(false);
    expect(one(ci.resources, "extensions-provider").inputs).toMatchObject({ host: "127.0.0.1", port: "15432" });
    expect(one(ci.resources, "seed").inputs.url).toBe("http://127.0.0.1:18155");
  });

  it("a setting that cannot work where the program runs is reported with the other config problems, before anything is created", async () => {
    const error = await runProgram("ci", { reachContainersBy: "published-ports", dbPort: "18155" }, JOB_CONTAINER).catch((e: Error) => e);
    expect(String(error)).toMatch(/reachContainersBy is published-ports, but this process runs in container GITEA-ACTIONS-TASK-7_build .*127\.0\.0\.1 is that container/);
    expect(String(error)).toMatch(/dbPort and directusPort are both 18155/);
    await expect(runProgram("ci", { reachContainersBy: "docker-network" })).rejects.toThrow(/reachContainersBy is docker-network, but not in a container/);
    await expect(runProgram("ci", { reachContainersBy: "docker-network" }, HOST_NETWORK)).rejects.toThrow(/on the host's network, which cannot join another network/);
    await expect(runProgram("ci", { reachContainersBy: "nearby" })).rejects.toThrow(/reachContainersBy must be one of auto, published-ports, docker-network/);
  });
});

describe("goDuration", () => {
  it.each([
    [0, "0s"],
    [2, "2s"],
    [59, "59s"],
    [60, "1m0s"],
    [300, "5m0s"],
    [600, "10m0s"],
    [3601, "1h0m1s"],
  ])("%i s → %s, as Go's time.Duration.String() prints it", (seconds, text) => {
    expect(goDuration(seconds)).toBe(text);
    expect(parseGoDuration(text)).toBe(seconds);
  });

  it("refuses fractions and negatives", () => {
    expect(() => goDuration(1.5)).toThrow(/whole number of seconds/);
    expect(() => goDuration(-1)).toThrow(/whole number of seconds/);
  });
});

describe("stack configuration", () => {
  const valid = Object.fromEntries(Object.entries(stackConfig("dev")).map(([k, v]) => [k.replace("trm-directus:", ""), v]));

  it("reports every problem together, naming the config key, and creates nothing", async () => {
    const bad = {
      ...valid,
      adminPassword: "password1",
      adminEmail: "not-an-email",
      directusPort: "54320",
      dbPort: "54320",
      databaseImage: "timescale/timescaledb-ha:pg16-latest",
      directusKey: undefined,
    };
    let error: StackConfigError | undefined;
    try {
      validateStackConfig("dev", bad);
    } catch (e) {
      error = e as StackConfigError;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        "adminEmail must be an email address",
        "adminPassword is too short: at least 12 characters",
        expect.stringMatching(/^directusKey is required/),
        "databaseImage must be pinned to an exact tag or digest, not a floating tag",
        "dbPort and directusPort are both 54320: give each its own port",
      ]),
    );
  });

  it.each([
    ["dbPort", "70000", "dbPort must be a port number (1-65535)"],
    ["adminPassword", "aaaaaaaaaaaaaaaa", "adminPassword is too weak: use letters and digits, not a single repeated or common word"],
    ["registryImage", "Not A/Image", "registryImage is not a valid image reference (registry/name:tag)"],
    ["schemaApplyMode", "yolo", "schemaApplyMode must be one of apply, dry-run, skip"],
    ["retainVolumes", "yes", "retainVolumes must be true or false"],
  ])("rejects %s=%s", (key, value, message) => {
    expect(() => validateStackConfig("dev", { ...valid, [key]: value })).toThrow(message);
  });

  it("refuses unknown keys (typos) by name", () => {
    expect(() => validateStackConfig("dev", { ...valid, adminPasword: "x" })).toThrow(/unknown config key\(s\): adminPasword/);
  });

  it("a configuration error stops the program before any resource is registered", async () => {
    await expect(runProgram("dev", { dbPort: "8055" })).rejects.toThrow(/dbPort and directusPort are both 8055/);
  });

  it("documents every key in Pulumi.yaml, with the validator's defaults", () => {
    const declared = parse(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")).config as Record<string, { default?: unknown }>;
    expect(Object.keys(declared).sort()).toEqual([...CONFIG_KEYS].sort());
    const required = Object.keys(declared).filter((k) => !("default" in declared[k]));
    const withDefaults = Object.fromEntries(Object.entries(declared).flatMap(([k, d]) => ("default" in d ? [[k, String(d.default)]] : [])));
    const fromYaml = validateStackConfig("dev", { ...withDefaults, ...Object.fromEntries(required.map((k) => [k, valid[k]])) });
    const fromValidator = validateStackConfig("dev", Object.fromEntries(required.map((k) => [k, valid[k]])));
    expect(fromYaml).toEqual(fromValidator);
  });
});
