import * as pulumi from "@pulumi/pulumi";
import { databaseAccepts, directusHealthy, waitUntilServing, type DatabaseEndpoint } from "../lib/readiness";
import { DynamicResource, dynamicProvider } from "../lib/dynamic-resource";

/** What "ready" means for the service: the check its container's healthcheck makes, from where this program reaches it. */
export type Readiness = { database: DatabaseEndpoint } | { directusUrl: string };

export interface ServiceReadyArgs {
  /** The container's name: watched while waiting, so one that fails ends the wait with its logs. */
  containerName: pulumi.Input<string>;
  /** The container's id: a new container (replaced, recreated) is waited for again. */
  containerId: pulumi.Input<string>;
  readiness: pulumi.Input<Readiness>;
  /** How long a first boot may take (the healthcheck's start period). */
  timeoutSeconds: number;
}

interface ReadyInputs {
  containerName: string;
  containerId: string;
  readiness: Readiness;
  timeoutSeconds: number;
}

function check(readiness: Readiness) {
  return "database" in readiness ? () => databaseAccepts(readiness.database) : () => directusHealthy(readiness.directusUrl);
}

async function waitForService(inputs: ReadyInputs): Promise<void> {
  const served = await waitUntilServing({ check: check(inputs.readiness), container: inputs.containerName, timeoutSeconds: inputs.timeoutSeconds });
  pulumi.log.info(`ready: ${served.name}`);
}

/**
 * Waits until a container's service serves, then records that it did. @pulumi/docker's `wait` reads
 * Docker's health status once a second, and Docker updates it once per healthcheck interval (1-2 s
 * here; Docker 20.10 has no start_interval): up to 3 s past the moment a service is up. This asks
 * every 0.1 s, and ends at once when the container fails (a start-up step's FAILED line, exit or
 * restart) instead of waiting out the timeout. An unchanged container is not waited for again.
 */
export const serviceReadyProvider = dynamicProvider<ReadyInputs, ReadyInputs>({
  async create(inputs) {
    await waitForService(inputs);
    return { id: `${inputs.containerName}@${inputs.containerId.slice(0, 12)}`, outs: inputs };
  },

  async diff(_id, olds, news) {
    return { changes: olds.containerId !== news.containerId || JSON.stringify(olds.readiness) !== JSON.stringify(news.readiness), replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    await waitForService(news);
    return { outs: news };
  },

  async delete() {
    // Nothing to undo: the container is the resource.
  },
});

export class ServiceReady extends DynamicResource {
  constructor(name: string, args: ServiceReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serviceReadyProvider,
      name,
      { ...args, readiness: pulumi.secret(args.readiness) },
      { ...opts, additionalSecretOutputs: ["readiness"] },
      "docker",
      "ServiceReady",
    );
  }
}
