import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";

export interface ExtensionsArgs {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  databaseName: string;
  user: string;
  password: pulumi.Input<string>;
  /** PostGIS: the binaries are in the image; Phase 1 leaves it off, Phase 2 turns it on. */
  postgis: boolean;
  /**
   * What the extensions wait for (the database serving). The provider does not: it connects only
   * when an extension is created, so its plugin starts while the database boots.
   */
  after: pulumi.Resource[];
}

/** PostgreSQL extensions through @pulumi/postgresql, on the database's published port. */
export class Extensions extends pulumi.ComponentResource {
  readonly timescaledb: postgresql.Extension;
  readonly postgis?: postgresql.Extension;

  constructor(name: string, args: ExtensionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:database:Extensions", name, {}, opts);

    const provider = new postgresql.Provider(
      `${name}-provider`,
      {
        host: args.host,
        port: args.port,
        database: args.databaseName,
        username: args.user,
        password: args.password,
        sslmode: "disable",
        superuser: true,
      },
      { parent: this },
    );
    // The image already created timescaledb: CREATE EXTENSION IF NOT EXISTS adopts it without an error.
    // retainOnDelete: dropping it would cascade into the positions hypertable; the data volume decides its fate.
    const extension = (extensionName: string) =>
      new postgresql.Extension(
        `${name}-${extensionName}`,
        { name: extensionName, database: args.databaseName },
        { parent: this, provider, retainOnDelete: true, dependsOn: args.after },
      );
    this.timescaledb = extension("timescaledb");
    if (args.postgis) this.postgis = extension("postgis");

    this.registerOutputs({ timescaledb: this.timescaledb.name, postgis: this.postgis?.name });
  }
}
