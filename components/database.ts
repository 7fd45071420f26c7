import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerInputs } from "../lib/container-health";
import { DockerNetwork } from "./docker-network";
import { DATABASE_ALIAS, DATABASE_PORT, type ServiceDescription, type Setting } from "../lib/services";

export interface DatabaseArgs {
  /** Prefix of physical names, e.g. trm-dev: stacks coexist on one Docker host. */
  namePrefix: string;
  /** The db service of the stack's description (lib/services.ts): image, env, healthcheck, volume, port. */
  service: ServiceDescription;
  /** The settings its env references (secret ones as secret Outputs). */
  settings: Setting<pulumi.Input<string>>[];
  /** Keep the data volume on `pulumi destroy`. */
  retainVolume: boolean;
}

/** PostgreSQL 16 + TimescaleDB in Docker: network, data volume, pinned image, healthy container. */
export class Database extends pulumi.ComponentResource {
  readonly network: DockerNetwork;
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** Where containers on the stack's network reach it (the program itself: components/stack-access.ts). */
  readonly internalHost: string = DATABASE_ALIAS;
  readonly internalPort = DATABASE_PORT;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:database:Database", name, {}, opts);
    const [data] = args.service.volumes;

    this.network = new DockerNetwork(`${name}-network`, { name: `${args.namePrefix}-net` }, { parent: this });
    this.volume = new docker.Volume(
      `${name}-data`,
      { name: `${args.namePrefix}-${data.volume}` },
      { parent: this, retainOnDelete: args.retainVolume },
    );
    // keepLocally: offline machines cannot pull it again after a destroy.
    const image = new docker.RemoteImage(`${name}-image`, { name: args.service.image, keepLocally: true }, { parent: this });

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.namePrefix}-${args.service.name}`,
        image: image.imageId,
        volumes: [{ volumeName: this.volume.name, containerPath: data.target }],
        networksAdvanced: [{ name: this.network.name, aliases: args.service.aliases }],
        ...containerInputs(args.service, args.settings),
      },
      { parent: this },
    );

    this.registerOutputs({ network: this.network.name, volume: this.volume.name });
  }
}
