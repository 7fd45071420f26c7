/**
 * TRM business plane: PostgreSQL 16 + TimescaleDB, migrations, our Directus image and container,
 * and the Rally Albania 2026 seed. One `pulumi up`, in dependency order:
 *   database (ready) → extensions → pre-schema migrations → Directus (image built first; ready)
 *   → post-schema migrations → seed → (on destroy, first) a database dump.
 *
 * The program is a function that returns the stack outputs: the plain CLI's language host calls it
 * (`pulumi up` where the Node.js language host is installed), and the npm scripts run the same
 * function as an inline program through the Automation API (scripts/lib/stack.ts), which needs no
 * language host. Relative paths are the project folder's: both run it there.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig, reportAsRunError } from "./components/config";
import { Database } from "./components/database";
import { DatabaseBackup } from "./components/database-backup";
import { DirectusImage } from "./components/directus-image";
import { DirectusService } from "./components/directus-service";
import { Extensions } from "./components/extensions";
import { ServiceReady } from "./components/service-ready";
import { DirectusSeed } from "./components/seed";
import { SqlMigrations } from "./components/sql-migrations";
import { StackAccess } from "./components/stack-access";
import { loadSeedFile } from "./lib/seed/data";
import { renderCompose } from "./lib/compose";
import { describeServices } from "./lib/services";

export = async function trmDirectus() {
  const config = readStackConfig();
  // Validated now, so a broken seed file fails the preview before anything is created.
  const seedFile = config.seedFile;
  const seedItems = seedFile ? reportAsRunError(() => loadSeedFile(seedFile)) : undefined;

  // The two containers, described once (lib/services.ts): rendered here and as the Portainer stack.
  const services = describeServices({ ...config, directusImage: config.registryImage });

  // Database: network, data volume, TimescaleDB container.
  const database = new Database("database", {
    namePrefix: config.namePrefix,
    service: services.db,
    settings: services.settings,
    retainVolume: config.retainVolumes,
  });
  // Our image builds (esbuild, then the docker provider) beside the database's start.
  const image = new DirectusImage("directus-image", { imageName: `trm-directus:${config.stack}`, context: "." });
  // The network and the database container are the steps every other one waits for. Nothing else is
  // registered until the container is started: serializing the dynamic providers below takes this
  // thread ~0.5 s, which would hold their registrations back; the database boots meanwhile.
  await new Promise((resolve) => database.container.urn.apply(resolve));
  // Where this program reaches the containers: published ports, or by name on the stack's network (reachContainersBy).
  pulumi.log.info(config.reach.line);
  const access = new StackAccess("access", { reach: config.reach, network: database.network.id, namePrefix: config.namePrefix, services });
  const hostDb = {
    host: access.database.host,
    port: access.database.port,
    database: config.database.name,
    user: config.database.user,
    password: config.database.password,
  };

  // Ready: the database answers where this program reaches it (what its healthcheck asks, every 0.1 s).
  const databaseReady = new ServiceReady("database-ready", {
    containerName: database.container.name,
    containerId: database.container.id,
    readiness: pulumi.output({ database: hostDb }),
    timeoutSeconds: services.db.healthcheck.startPeriodSeconds,
  });

  // Extensions, where this program reaches the database.
  const extensions = new Extensions("extensions", {
    ...hostDb,
    databaseName: config.database.name,
    postgis: config.database.postgis,
    after: [databaseReady],
  });

  // Pre-schema migrations (db-init/), before Directus creates its tables.
  const preSchema = new SqlMigrations("pre-schema-migrations", { dirs: ["db-init"], db: hostDb }, { dependsOn: [extensions] });

  // Directus: the container of our image (its start-up also runs every migration step, for Portainer).
  const directus = new DirectusService(
    "directus",
    {
      namePrefix: config.namePrefix,
      service: services.directus,
      settings: services.settings,
      imageId: image.imageId,
      networkName: database.network.name,
      databaseContainerId: database.container.id,
      retainVolume: config.retainVolumes,
    },
    { dependsOn: [preSchema] },
  );

  const directusReady = new ServiceReady("directus-ready", {
    containerName: directus.container.name,
    containerId: directus.container.id,
    readiness: pulumi.output({ directusUrl: access.directusUrl }),
    timeoutSeconds: services.directus.healthcheck.startPeriodSeconds,
  });

  // Post-schema constraints (db-post/), once Directus serves and its collections exist.
  const postSchema = new SqlMigrations("post-schema-migrations", { dirs: ["db-post"], db: hostDb }, { dependsOn: [directusReady] });

  // Seed: Rally Albania 2026 through @directus/sdk.
  const seed = seedItems
    ? new DirectusSeed(
        "seed",
        {
          url: access.directusUrl,
          credentials: config.directus.adminPassword.apply((password) => ({ email: config.directus.adminEmail, password })),
          items: seedItems,
          source: seedFile!,
        },
        // Retained volumes keep the seeded items: destroy leaves them, the next up adopts them by natural key.
        { dependsOn: [postSchema], retainOnDelete: config.retainVolumes },
      )
    : undefined;

  // Backup: the first thing `pulumi destroy` does (it depends on everything) is dump the database.
  if (config.backupOnDestroy) {
    new DatabaseBackup(
      "database-backup",
      {
        stack: config.stack,
        containerName: database.container.name,
        databaseName: config.database.name,
        user: config.database.user,
        password: config.database.password,
        dir: "backups",
      },
      { dependsOn: [seed ?? postSchema] },
    );
  }

  const portainerEnv = pulumi.all(services.settings.map((s) => s.value)).apply((values) =>
    services.settings.map((s, i) => ({ name: s.name, value: values[i] })),
  );

  return {
    /** Where the scripts (npm run stack -- smoke) reach them: as this program does (reachContainersBy). */
    ...access.reachOutputs(config),
    databaseContainer: database.container.name,
    directusContainer: directus.container.name,
    imageId: image.imageId,
    imageName: image.imageName,
    registryImage: config.registryImage,
    volumes: { data: database.volume.name, uploads: directus.uploads.name },
    networkName: database.network.name,
    seededCounts: seed?.counts,
    /** For Portainer's stack API: the compose text holds no secret (it says ${KEY}); the env list does. */
    portainerStack: {
      compose: pulumi.output(renderCompose(services)),
      env: pulumi.secret(portainerEnv),
    },
  };
};

