/**
 * The engine e2e's program: the project's dynamic resources (pre- and post-schema SqlMigrations, the
 * DirectusSeed) in index.ts's order, against the database and Directus containers the suite starts
 * with plain Docker (tools/plain-docker-stack.ts). It needs no provider plugin, so the real engine
 * runs it on every machine. Same stack config as index.ts (lib/stack-config.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../components/config";
import { DirectusSeed } from "../components/seed";
import { SqlMigrations } from "../components/sql-migrations";
import { loadSeedFile } from "../lib/seed/data";

export = async function engineProgram() {
  const config = readStackConfig();
  const seedFile = config.seedFile!;
  const db = {
    host: "127.0.0.1",
    port: config.database.hostPort,
    database: config.database.name,
    user: config.database.user,
    password: config.database.password,
  };
  const preSchema = new SqlMigrations("pre-schema-migrations", { dirs: ["db-init"], db });
  const postSchema = new SqlMigrations("post-schema-migrations", { dirs: ["db-post"], db }, { dependsOn: [preSchema] });
  const seed = new DirectusSeed(
    "seed",
    {
      url: `http://127.0.0.1:${config.directus.hostPort}`,
      credentials: pulumi.secret(config.directus.adminPassword).apply((password) => ({ email: config.directus.adminEmail, password })),
      items: loadSeedFile(seedFile),
      source: seedFile,
    },
    { dependsOn: [postSchema] },
  );
  return { seededCounts: seed.counts, preSchemaApplied: preSchema.applied, postSchemaApplied: postSchema.applied };
};
