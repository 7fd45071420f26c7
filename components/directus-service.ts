import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerInputs } from "../lib/container-health";
import { type ServiceDescription, type Setting } from "../lib/services";

export interface DirectusServiceArgs {
  namePrefix: string;
  /** The directus service of the stack's description (lib/services.ts): env, healthcheck, volume, port. */
  service: ServiceDescription;
  /** The settings its env references (secret ones as secret Outputs). */
  settings: Setting<pulumi.Input<string>>[];
  /** Our built image (the description's image is the registry name Portainer pulls). */
  imageId: pulumi.Input<string>;
  networkName: pulumi.Input<string>;
  /**
   * The database container's id. The start-up script migrates and bootstraps the database only when
   * the container starts, so a new database container (a fresh data volume) replaces this one too.
   */
  databaseContainerId: pulumi.Input<string>;
  retainVolume: boolean;
}

/** The Directus container: env from config (secrets stay secret), uploads volume, init, healthy wait. */
export class DirectusService extends pulumi.ComponentResource {
  readonly uploads: docker.Volume;
  readonly container: docker.Container;

  constructor(name: string, args: DirectusServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:directus:DirectusService", name, {}, opts);
    const [uploads] = args.service.volumes;

    this.uploads = new docker.Volume(
      `${name}-uploads`,
      { name: `${args.namePrefix}-${uploads.volume}` },
      { parent: this, retainOnDelete: args.retainVolume },
    );

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.namePrefix}-${args.service.name}`,
        image: args.imageId,
        labels: [{ label: "org.trm.database-container", value: args.databaseContainerId }],
        volumes: [{ volumeName: this.uploads.name, containerPath: uploads.target }],
        networksAdvanced: [{ name: args.networkName }],
        ...containerInputs(args.service, args.settings),
      },
      { parent: this },
    );

    this.registerOutputs({ uploads: this.uploads.name });
  }
}
