import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { waitUntilHealthy } from "../lib/container-health";

export interface DatabaseArgs {
  /** Prefix of physical names, e.g. trm-dev: stacks coexist on one Docker host. */
  namePrefix: string;
  /** Pinned TimescaleDB image, e.g. timescale/timescaledb-ha:pg16.6-ts2.17.2-all. */
  image: string;
  databaseName: string;
  user: string;
  password: pulumi.Input<string>;
  /** Host port, published on 127.0.0.1 only. */
  hostPort: number;
  /** Keep the data volume on `pulumi destroy`. */
  retainVolume: boolean;
}

/** The timescaledb-ha image's data directory: PGDATA and the volume must both point exactly here. */
export const PGDATA = "/home/postgres/pgdata/data";
/** Name other containers on the stack's network use for the database. */
export const DATABASE_ALIAS = "db";
const FIRST_BOOT_TIMEOUT_SECONDS = 300;

/** PostgreSQL 16 + TimescaleDB in Docker: network, data volume, pinned image, healthy container. */
export class Database extends pulumi.ComponentResource {
  readonly network: docker.Network;
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** Where Pulumi (on the host) reaches the database. */
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** Where containers on the stack's network reach it. */
  readonly internalHost: string = DATABASE_ALIAS;
  readonly internalPort = 5432;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:database:Database", name, {}, opts);

    this.network = new docker.Network(`${name}-network`, { name: `${args.namePrefix}-net` }, { parent: this });
    this.volume = new docker.Volume(
      `${name}-data`,
      { name: `${args.namePrefix}-pgdata` },
      { parent: this, retainOnDelete: args.retainVolume },
    );
    // keepLocally: offline machines cannot pull it again after a destroy.
    const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.namePrefix}-db`,
        image: image.imageId,
        envs: [
          `POSTGRES_DB=${args.databaseName}`,
          `POSTGRES_USER=${args.user}`,
          pulumi.interpolate`POSTGRES_PASSWORD=${args.password}`,
          `PGDATA=${PGDATA}`,
          "TIMESCALEDB_TELEMETRY=off",
        ],
        volumes: [{ volumeName: this.volume.name, containerPath: PGDATA }],
        networksAdvanced: [{ name: this.network.name, aliases: [DATABASE_ALIAS] }],
        ports: [{ internal: 5432, external: args.hostPort, ip: "127.0.0.1" }],
        // Over TCP: during first boot the init-time temporary server answers on the socket only.
        ...waitUntilHealthy(["CMD", "pg_isready", "-h", "127.0.0.1", "-U", args.user, "-d", args.databaseName], {
          intervalSeconds: 2,
          firstBootSeconds: FIRST_BOOT_TIMEOUT_SECONDS,
        }),
      },
      { parent: this },
    );

    this.host = pulumi.output("127.0.0.1");
    this.port = pulumi.output(args.hostPort);
    this.registerOutputs({ host: this.host, port: this.port, network: this.network.name, volume: this.volume.name });
  }
}
