/**
 * The engine e2e's program: the project's dynamic resources (ServiceReady for both containers, pre-
 * and post-schema SqlMigrations, the DirectusSeed) in index.ts's order, against the database and
 * Directus containers the suite starts
 * with plain Docker (tools/plain-docker-stack.ts, prefix trm-<stack> and network trm-<stack>-net for
 * docker-network reach). It needs no provider plugin, so the real engine runs it on every machine.
 * Same stack config as index.ts (lib/stack-config.ts), the same reach (components/stack-access.ts)
 * and the outputs the scripts read (`npm run stack -- smoke`). TRM_E2E_FAILING_CONTAINER names a
 * container whose service the program also waits for (the suite's failing start-up).
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../components/config";
import { DirectusSeed } from "../components/seed";
import { SqlMigrations } from "../components/sql-migrations";
import { ServiceReady, type Readiness } from "../components/service-ready";
import { StackAccess } from "../components/stack-access";
import { dockerCli } from "../lib/docker-cli";
import { containerName } from "../lib/reach";
import { loadSeedFile } from "../lib/seed/data";
import { describeServices } from "../lib/services";

export = async function engineProgram() {
  const config = readStackConfig();
  const seedFile = config.seedFile!;
  const services = describeServices({ ...config, directusImage: config.registryImage });
  pulumi.log.info(config.reach.line);
  const access = new StackAccess("access", { reach: config.reach, network: `${config.namePrefix}-net`, namePrefix: config.namePrefix, services });
  const db = {
    ...access.database,
    database: config.database.name,
    user: config.database.user,
    password: config.database.password,
  };
  const ready = (name: string, container: string, readiness: pulumi.Input<Readiness>, timeoutSeconds: number) =>
    new ServiceReady(name, { containerName: container, containerId: dockerCli(["inspect", "-f", "{{.Id}}", container]), readiness, timeoutSeconds });
  const [dbContainer, directusContainer] = [containerName(config.namePrefix, services.db), containerName(config.namePrefix, services.directus)];
  const databaseReady = ready("database-ready", dbContainer, pulumi.output({ database: db }), services.db.healthcheck.startPeriodSeconds);
  const directusReady = ready("directus-ready", directusContainer, pulumi.output({ directusUrl: access.directusUrl }), services.directus.healthcheck.startPeriodSeconds);
  const failing = process.env.TRM_E2E_FAILING_CONTAINER;
  if (failing) ready("failing-ready", failing, { directusUrl: "http://127.0.0.1:9" }, services.directus.healthcheck.startPeriodSeconds);
  const preSchema = new SqlMigrations("pre-schema-migrations", { dirs: ["db-init"], db }, { dependsOn: [databaseReady] });
  const postSchema = new SqlMigrations("post-schema-migrations", { dirs: ["db-post"], db }, { dependsOn: [preSchema, directusReady] });
  const seed = new DirectusSeed(
    "seed",
    {
      url: access.directusUrl,
      credentials: pulumi.secret(config.directus.adminPassword).apply((password) => ({ email: config.directus.adminEmail, password })),
      items: loadSeedFile(seedFile),
      source: seedFile,
    },
    { dependsOn: [postSchema] },
  );
  const secretEnv = pulumi
    .all([config.database.password, config.directus.adminPassword])
    .apply(([dbPassword, adminPassword]) => [{ name: "DB_PASSWORD", value: dbPassword }, { name: "ADMIN_PASSWORD", value: adminPassword }]);
  return {
    seededCounts: seed.counts,
    preSchemaApplied: preSchema.applied,
    postSchemaApplied: postSchema.applied,
    reach: config.reach.mode,
    ...access.reachOutputs(config),
    databaseContainer: dbContainer,
    directusContainer,
    portainerStack: { env: pulumi.secret(secretEnv) },
  };
};
