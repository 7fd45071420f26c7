import * as pulumi from "@pulumi/pulumi";
import { NetworkJoin } from "./network-join";
import { containerName, serviceAddress, type Reach } from "../lib/reach";
import type { ServiceDescription } from "../lib/services";

export interface StackAccessArgs {
  /** How the program reaches the containers here (ResolvedConfig.reach). */
  reach: Reach;
  /** The stack's Docker network, by id (a recreated network is joined again) or name. */
  network: pulumi.Input<string>;
  /** Prefix of the containers' names: each is <namePrefix>-<service name>. */
  namePrefix: string;
  /** The two services of the stack's description (lib/services.ts): their names and ports. */
  services: { db: ServiceDescription; directus: ServiceDescription };
}

/**
 * Where the program, the seed and the scripts reach the database and Directus: the ports published
 * on this host, or the containers by name once the container this program runs in has joined the
 * stack's network (a NetworkJoin, left again on destroy before the network goes). The addresses
 * carry that dependency: whatever uses them waits for the join.
 */
export class StackAccess extends pulumi.ComponentResource {
  readonly database: { host: pulumi.Output<string>; port: pulumi.Output<number> };
  readonly directusUrl: pulumi.Output<string>;
  /** Present in docker-network mode. */
  readonly join?: NetworkJoin;

  constructor(name: string, args: StackAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:access:StackAccess", name, {}, opts);
    const { reach, namePrefix, services } = args;
    if (reach.mode === "docker-network") {
      this.join = new NetworkJoin(`${name}-join`, { network: args.network, container: reach.container }, { parent: this });
    }
    const ready = this.join ? this.join.id : pulumi.output("");
    const db = serviceAddress(reach, containerName(namePrefix, services.db), services.db.ports[0]);
    const directus = serviceAddress(reach, containerName(namePrefix, services.directus), services.directus.ports[0]);
    this.database = { host: ready.apply(() => db.host), port: ready.apply(() => db.port) };
    this.directusUrl = ready.apply(() => `http://${directus.host}:${directus.port}`);
    this.registerOutputs({ database: this.database, directusUrl: this.directusUrl });
  }

  /** The stack outputs the scripts reach the stack by (scripts/stack-env.ts): as this program does. */
  reachOutputs(config: { directus: { adminEmail: string }; database: { name: string; user: string } }) {
    return {
      directusUrl: this.directusUrl,
      adminEmail: config.directus.adminEmail,
      databaseHost: this.database.host,
      databasePort: this.database.port,
      databaseName: config.database.name,
      databaseUser: config.database.user,
    };
  }
}
