import * as pulumi from "@pulumi/pulumi";
import { dockerCli } from "../lib/docker-cli";
import { DynamicResource, dynamicProvider } from "../lib/dynamic-resource";

export interface DockerNetworkArgs {
  /** The network's name (a bridge network): containers on it reach each other by name and alias. */
  name: pulumi.Input<string>;
}

interface NetworkInputs {
  name: string;
}

interface NetworkOutputs extends NetworkInputs {
  /** Docker's id of the network (also the resource's id). */
  networkId: string;
}

/** The dynamic resource's module and type: the state records it as `pulumi-nodejs:dynamic/docker:Network`. */
const [MODULE, TYPE] = ["docker", "Network"];
/** What stacks created before this resource recorded: @pulumi/docker's Network. */
const PULUMI_DOCKER_NETWORK_TYPE = "docker:index/network:Network";
/** The types a state may record the stack's network as (the second until the first `up` that takes it over). */
export const DOCKER_NETWORK_TYPES: readonly string[] = [`pulumi-nodejs:dynamic/${MODULE}:${TYPE}`, PULUMI_DOCKER_NETWORK_TYPE];

const NO_SUCH_NETWORK = /No such network|not found/i;

/** Creates the network, or takes over one of that name (a run killed after creating it, before recording it). */
function createOrAdoptNetwork(name: string): NetworkOutputs {
  dockerCli(["network", "create", name], /already exists/i);
  return inspectNetwork(name)!;
}

/** The network with this name or id, or undefined when Docker has none. */
function inspectNetwork(nameOrId: string): NetworkOutputs | undefined {
  const found = dockerCli(["network", "inspect", "--format", "{{.Id}} {{.Name}}", nameOrId], NO_SUCH_NETWORK);
  const [networkId, name] = found.split(" ");
  return networkId ? { name, networkId } : undefined;
}

/**
 * The stack's Docker network, on the Docker CLI. @pulumi/docker's Network waits a fixed 2 s after each
 * create, read and delete (terraform-provider-docker's networkReadRefreshDelay and
 * networkRemoveRefreshDelay), and the network is the one step before the database container can be
 * created: this takes ~0.1 s. A state that recorded @pulumi/docker's Network is taken over in place
 * (an alias, then one update that records the id): the network and its containers stay.
 */
export const dockerNetworkProvider = dynamicProvider<NetworkInputs, NetworkOutputs>({
  async create(inputs) {
    const outs = createOrAdoptNetwork(inputs.name);
    return { id: outs.networkId, outs };
  },

  /** `pulumi refresh`: a network removed by hand reads as gone, so the next `up` creates it again. */
  async read(id) {
    const found = inspectNetwork(id);
    return found ? { id: found.networkId, props: found } : { id: "" };
  },

  async diff(_id, olds, news) {
    const replaces = olds.name === news.name ? [] : ["name"];
    // A state from @pulumi/docker's Network has no networkId: one update records it.
    return { changes: replaces.length > 0 || olds.networkId === undefined, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: createOrAdoptNetwork(news.name) };
  },

  async delete(_id, props) {
    dockerCli(["network", "rm", props.name], NO_SUCH_NETWORK);
  },
});

export class DockerNetwork extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly networkId: pulumi.Output<string>;

  constructor(name: string, args: DockerNetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      dockerNetworkProvider,
      name,
      { name: args.name, networkId: undefined },
      { ...opts, aliases: [...(opts?.aliases ?? []), { type: PULUMI_DOCKER_NETWORK_TYPE }] },
      MODULE,
      TYPE,
    );
  }
}
