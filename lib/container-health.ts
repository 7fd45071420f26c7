/**
 * The Pulumi rendering of a service description (lib/services.ts): docker.Container arguments for
 * its env (secret entries as pulumi.secret), ports, init, restart policy and healthcheck. `pulumi up`
 * waits for the service with a ServiceReady (components/service-ready.ts), not with the docker
 * provider's `wait`, which polls Docker's once-per-interval health status.
 */
import * as pulumi from "@pulumi/pulumi";
import { goDuration, references, substitute, type Healthcheck, type ServiceDescription, type Setting } from "./services";

export { goDuration } from "./services";

/** docker.Container arguments of a service, apart from its image, name, volumes and network (resources of the component). */
export function containerInputs(service: ServiceDescription, settings: Setting<pulumi.Input<string>>[]) {
  return {
    envs: service.env.map((entry) => {
      const value = resolve(`${entry.name}=${entry.value}`, settings);
      return entry.secret ? pulumi.secret(value) : value;
    }),
    // Left out rather than false: the docker provider's state for a container without init says nothing.
    ...(service.init ? { init: true } : {}),
    ports: service.ports.map((p) => ({ internal: p.containerPort, external: p.hostPort, ip: p.hostIp })),
    healthcheck: healthcheckOf(
      service.healthcheck.test.map((arg) => plainText(arg, settings, `${service.name} healthcheck`)),
      service.healthcheck,
    ),
    restart: service.restart,
  };
}

/** The text with its ${NAME} references substituted: plain when every value is, else an Output. */
function resolve(text: string, settings: Setting<pulumi.Input<string>>[]): pulumi.Input<string> {
  const used = settings.filter((s) => references(text).includes(s.name));
  if (used.every((s) => typeof s.value === "string")) return substitute(text, used as Setting<string>[]);
  return pulumi.all(used.map((s) => s.value)).apply((values) => substitute(text, used.map((s, i) => ({ ...s, value: values[i] }))));
}

function plainText(text: string, settings: Setting<pulumi.Input<string>>[], where: string): string {
  const value = resolve(text, settings);
  if (typeof value !== "string") throw new Error(`${where}: "${text}" references a secret setting; a healthcheck is visible in docker inspect`);
  return value;
}

/** The docker.Container healthcheck: Docker's own view of the container (docker ps, compose, Portainer). */
function healthcheckOf(tests: string[], h: Healthcheck) {
  return {
    tests,
    interval: goDuration(h.intervalSeconds),
    timeout: goDuration(h.timeoutSeconds),
    retries: h.retries,
    startPeriod: goDuration(h.startPeriodSeconds),
  };
}
