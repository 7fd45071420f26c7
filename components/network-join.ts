import * as pulumi from "@pulumi/pulumi";
import { dockerCli } from "../lib/docker-cli";
import { DynamicResource, dynamicProvider } from "../lib/dynamic-resource";

export interface NetworkJoinArgs {
  network: pulumi.Input<string>;
  /** The full id of the container this program runs in. */
  container: pulumi.Input<string>;
}

interface JoinInputs {
  network: string;
  container: string;
}

/** Connects the container to the network unless it is on it already (an interrupted run may have connected it). */
function connectToNetwork({ network, container }: JoinInputs): void {
  const members = dockerCli(["network", "inspect", "--format", "{{range $id, $c := .Containers}}{{$id}} {{end}}", network]).split(" ");
  if (members.includes(container)) return;
  dockerCli(["network", "connect", network, container]);
}

/** Disconnects it; a network or container that is gone already, or a container not connected, is no failure. */
function disconnectFromNetwork({ network, container }: JoinInputs): void {
  dockerCli(["network", "disconnect", "--force", network, container], /No such (network|container)|not found|is not connected/i);
}

/**
 * The container this program runs in, joined to the stack's network, as a dynamic resource: created
 * after the network, deleted (disconnected) before it, so `pulumi destroy` can remove the network.
 * A new network or a new container (the next CI job) replaces it.
 */
export const networkJoinProvider = dynamicProvider<JoinInputs, JoinInputs>({
  async create(inputs) {
    connectToNetwork(inputs);
    return { id: `${inputs.container.slice(0, 12)}@${inputs.network}`, outs: inputs };
  },

  async diff(_id, olds, news) {
    const replaces = (["network", "container"] as const).filter((key) => olds[key] !== news[key]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async delete(_id, props) {
    disconnectFromNetwork(props);
  },
});

export class NetworkJoin extends DynamicResource {
  declare readonly network: pulumi.Output<string>;
  declare readonly container: pulumi.Output<string>;

  constructor(name: string, args: NetworkJoinArgs, opts?: pulumi.CustomResourceOptions) {
    super(networkJoinProvider, name, args, opts);
  }
}
