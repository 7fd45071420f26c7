/**
 * The Pulumi rendering of a service description (lib/services.ts): docker.Container arguments for
 * its env (secret entries as pulumi.secret), ports, init, restart policy and a healthcheck that
 * makes `pulumi up` wait until Docker reports the container healthy.
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
    ...waitUntilHealthy(
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

/**
 * docker.Container arguments that make `pulumi up` wait until Docker reports the container healthy,
 * allowing the healthcheck's start period for a slow first boot.
 */
export function waitUntilHealthy(tests: string[], h: Healthcheck) {
  return {
    healthcheck: {
      tests,
      interval: goDuration(h.intervalSeconds),
      timeout: goDuration(h.timeoutSeconds),
      retries: h.retries,
      startPeriod: goDuration(h.startPeriodSeconds),
    },
    wait: true,
    waitTimeout: h.startPeriodSeconds,
  };
}
