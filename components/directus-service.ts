import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { waitUntilHealthy } from "../lib/container-health";
import { DIRECTUS_HEALTHCHECK } from "../lib/compose";

export interface DirectusServiceArgs {
  namePrefix: string;
  imageId: pulumi.Input<string>;
  networkName: pulumi.Input<string>;
  /**
   * The database container's id. The start-up script migrates and bootstraps the database only when
   * the container starts, so a new database container (a fresh data volume) replaces this one too.
   */
  databaseContainerId: pulumi.Input<string>;
  db: {
    host: string;
    port: number;
    database: string;
    user: string;
    password: pulumi.Input<string>;
  };
  /** Host port, published on 127.0.0.1 only. */
  hostPort: number;
  publicUrl: string;
  adminEmail: string;
  adminPassword: pulumi.Input<string>;
  key: pulumi.Input<string>;
  secret: pulumi.Input<string>;
  schemaApplyMode: string;
  schemaAllowDeletions: boolean;
  retainVolume: boolean;
}

/** First boot runs migrations, bootstrap and the schema apply before Directus answers: 60-90 s seen. */
const FIRST_BOOT_TIMEOUT_SECONDS = 600;

/** The Directus container: env from config (secrets stay secret), uploads volume, init, healthy wait. */
export class DirectusService extends pulumi.ComponentResource {
  readonly uploads: docker.Volume;
  readonly container: docker.Container;
  /** Where Pulumi (on the host) reaches Directus. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: DirectusServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:directus:DirectusService", name, {}, opts);

    this.uploads = new docker.Volume(
      `${name}-uploads`,
      { name: `${args.namePrefix}-uploads` },
      { parent: this, retainOnDelete: args.retainVolume },
    );

    const secretEnv = (key: string, value: pulumi.Input<string>) => pulumi.secret(pulumi.interpolate`${key}=${value}`);
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: `${args.namePrefix}-directus`,
        image: args.imageId,
        envs: [
          "DB_CLIENT=pg",
          `DB_HOST=${args.db.host}`,
          `DB_PORT=${args.db.port}`,
          `DB_DATABASE=${args.db.database}`,
          `DB_USER=${args.db.user}`,
          secretEnv("DB_PASSWORD", args.db.password),
          secretEnv("KEY", args.key),
          secretEnv("SECRET", args.secret),
          `ADMIN_EMAIL=${args.adminEmail}`,
          secretEnv("ADMIN_PASSWORD", args.adminPassword),
          `PUBLIC_URL=${args.publicUrl}`,
          "TELEMETRY=false",
          `SCHEMA_APPLY_MODE=${args.schemaApplyMode}`,
          `SCHEMA_ALLOW_DELETIONS=${args.schemaAllowDeletions}`,
        ],
        labels: [{ label: "org.trm.database-container", value: args.databaseContainerId }],
        // Directus under pm2 must not be PID 1: it would ignore SIGTERM and `docker stop` would hang.
        init: true,
        volumes: [{ volumeName: this.uploads.name, containerPath: "/directus/uploads" }],
        networksAdvanced: [{ name: args.networkName }],
        ports: [{ internal: 8055, external: args.hostPort, ip: "127.0.0.1" }],
        ...waitUntilHealthy(DIRECTUS_HEALTHCHECK, { intervalSeconds: 3, firstBootSeconds: FIRST_BOOT_TIMEOUT_SECONDS }),
      },
      { parent: this },
    );

    this.url = pulumi.output(`http://127.0.0.1:${args.hostPort}`);
    this.registerOutputs({ url: this.url, uploads: this.uploads.name });
  }
}
