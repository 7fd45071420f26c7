/**
 * The stack's two containers started with plain `docker run`, rendered from the same service
 * description as the Pulumi components (lib/services.ts: env, healthcheck, volumes, ports, init,
 * network alias, start order): the plain-Docker baseline of the stack benchmark, and the containers
 * the engine e2e runs the project's dynamic resources against (no provider plugin needed).
 */
import { databaseAccepts, directusHealthy, waitUntilServing, type Check } from "../lib/readiness";
import { DEFAULT_BIND_ADDRESS } from "../lib/stack-config";
import { describeServices, resolveEnv, resolveHealthTest, type ServiceDescription, type Setting } from "../lib/services";
import { docker as dockerCli, dockerOrThrow, waitHealthy } from "../scripts/lib/docker";

export interface DockerStackOptions {
  prefix: string;
  directusImage: string;
  databaseImage: string;
  dbPort: number;
  directusPort: number;
  dbPassword: string;
  adminEmail: string;
  adminPassword: string;
  /**
   * How each container is awaited: "service" (default) asks the service as `pulumi up` does
   * (lib/readiness.ts, every 0.1 s); "docker-health" polls Docker's health status once a second, as a
   * script around `docker run` would (and @pulumi/docker's `wait` does).
   */
  waitFor?: "service" | "docker-health";
}

export interface DockerStack {
  directusUrl: string;
  db: { host: string; port: number; database: string; user: string; password: string };
  /** Seconds from the first `docker run` until both services served. */
  secondsToHealthy: number;
  remove(): void;
}

const docker = (args: string[], allowFailure = false): string => (allowFailure ? dockerCli(args).stdout : dockerOrThrow(args));

/** Starts the containers one after the other, each once the one before serves (see `waitFor`). */
export async function startDockerStack(o: DockerStackOptions): Promise<DockerStack> {
  const services = describeServices({
    directusImage: o.directusImage,
    database: { image: o.databaseImage, name: "directus", user: "directus", password: o.dbPassword, hostPort: o.dbPort },
    directus: {
      hostPort: o.directusPort,
      bindAddress: DEFAULT_BIND_ADDRESS,
      publicUrl: `http://localhost:${o.directusPort}`,
      adminEmail: o.adminEmail,
      adminPassword: o.adminPassword,
      key: "k".repeat(32),
      secret: "s".repeat(32),
      schemaApplyMode: "apply",
      schemaAllowDeletions: false,
    },
  });
  const net = `${o.prefix}-net`;
  const all = [services.db, services.directus];
  const db = { host: "127.0.0.1", port: o.dbPort, database: "directus", user: "directus", password: o.dbPassword };
  const directusUrl = `http://127.0.0.1:${o.directusPort}`;
  const checks: Record<string, () => Promise<Check>> = { db: () => databaseAccepts(db), directus: () => directusHealthy(directusUrl) };
  const remove = () => {
    docker(["rm", "-f", ...all.map((s) => `${o.prefix}-${s.name}`)], true);
    docker(["network", "rm", net], true);
    docker(["volume", "rm", ...all.flatMap((s) => s.volumes.map((v) => `${o.prefix}-${v.volume}`))], true);
  };
  remove();
  const started = Date.now();
  docker(["network", "create", net]);
  for (const service of all) {
    docker(dockerRunArgs(service, services.settings, o.prefix, net));
    const container = `${o.prefix}-${service.name}`;
    if (o.waitFor === "docker-health") waitHealthy(container, service.healthcheck.startPeriodSeconds);
    else await waitUntilServing({ check: checks[service.name], container, timeoutSeconds: service.healthcheck.startPeriodSeconds });
  }
  return {
    directusUrl,
    db,
    secondsToHealthy: Math.round((Date.now() - started) / 100) / 10,
    remove,
  };
}

/**
 * `docker run -d` arguments of a service, every port published (the e2e runs the host-side steps).
 * No restart policy: a container that crashes should fail the run at once, not loop.
 */
export function dockerRunArgs(service: ServiceDescription, settings: Setting<string>[], prefix: string, network: string): string[] {
  const h = service.healthcheck;
  return [
    "run", "-d", "--name", `${prefix}-${service.name}`, "--network", network,
    ...service.aliases.flatMap((alias) => ["--network-alias", alias]),
    ...(service.init ? ["--init"] : []),
    ...service.volumes.flatMap((v) => ["-v", `${prefix}-${v.volume}:${v.target}`]),
    ...service.ports.flatMap((p) => ["-p", `${p.hostIp}:${p.hostPort}:${p.containerPort}`]),
    ...resolveEnv(service, settings).flatMap((e) => ["-e", `${e.name}=${e.value}`]),
    "--health-cmd", shellWords(resolveHealthTest(service, settings).slice(1)),
    "--health-interval", `${h.intervalSeconds}s`, "--health-timeout", `${h.timeoutSeconds}s`,
    "--health-retries", String(h.retries), "--health-start-period", `${h.startPeriodSeconds}s`,
    service.image,
  ];
}

/** `docker run --health-cmd` takes one shell command line: the exec form's arguments, quoted. */
function shellWords(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}
