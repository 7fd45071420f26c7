/**
 * What the real Pulumi engine can run on the offline machines: the project's own dynamic resources
 * (migrations and seed) against containers started with plain Docker (see e2e/docker-stack.ts).
 * The docker, postgresql and command provider plugins cannot be built here (their Go modules are
 * not served), so the full program (index.ts) is exercised by the mock tests and e2e/stack.e2e.test.ts.
 * Same components, same order: pre-schema migrations → post-schema migrations → seed.
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DirectusSeed } from "../components/seed";
import { SqlMigrations } from "../components/sql-migrations";
import { loadSeedFile } from "../lib/seed/data";

const config = new pulumi.Config();
// Pulumi runs a `main` in a subfolder with that folder as its working directory.
const root = path.resolve(__dirname, "..");
const seedFile = "seed/rally-albania-2026.yaml";
const db = {
  host: "127.0.0.1",
  port: config.requireNumber("dbPort"),
  database: "directus",
  user: "directus",
  password: config.requireSecret("dbPassword"),
};

const preSchema = new SqlMigrations("pre-schema-migrations", { dirs: ["db-init"], root, db });
const postSchema = new SqlMigrations("post-schema-migrations", { dirs: ["db-post"], root, db }, { dependsOn: [preSchema] });
const seed = new DirectusSeed(
  "seed",
  {
    url: config.require("directusUrl"),
    credentials: config.requireSecret("adminPassword").apply((password) => ({ email: config.require("adminEmail"), password })),
    items: loadSeedFile(path.join(root, seedFile)),
    source: seedFile,
  },
  { dependsOn: [postSchema] },
);

export const seededCounts = seed.counts;
export const preSchemaApplied = preSchema.applied;
