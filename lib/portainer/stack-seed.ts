/**
 * Seeds a Portainer stack's Directus through its public address (the stack config's publicUrl) with
 * the seed engine, after a healthy rollout. Credentials: a static token (DIRECTUS_TOKEN) when given,
 * else the admin's that the Portainer stack holds (ADMIN_EMAIL, ADMIN_PASSWORD in its Env, read
 * through Portainer's API; never printed).
 *
 * Deletions: none. Stage and prod keep no record of what the seed declared before (no Pulumi state),
 * and an item whose natural key the file no longer declares cannot be told from one made by hand;
 * the engine deletes only what it is told the seed declared before (`npm run seed -- --previous`).
 */
import type { PortainerEnvVar } from "../compose";
import { connectDirectus, type DirectusCredentials } from "../directus-client";
import { seedDirectus, type SeedResult } from "../seed/apply";
import { loadSeedFile } from "../seed/data";
import { causeOf, PortainerError } from "./api";

export interface StackSeedOptions {
  /** The stack config's name (stage, prod): its Pulumi.<stack>.yaml holds publicUrl and seedFile. */
  stackName: string;
  /** The stack config's publicUrl: where this runner reaches the stack's Directus. */
  publicUrl: string;
  seedFile: string;
  /** The env list the Portainer stack holds. */
  stackEnv: PortainerEnvVar[];
  /** DIRECTUS_TOKEN: an admin's static token, used instead of the stack's admin login. */
  token?: string;
  log(line: string): void;
  fetchImpl?: typeof fetch;
}

export async function seedThroughPublicUrl(options: StackSeedOptions): Promise<SeedResult> {
  const desired = loadSeedFile(options.seedFile);
  const credentials = credentialsOf(options);
  const client = await connectDirectus(options.publicUrl, credentials, options.fetchImpl).catch((error: unknown) => {
    throw unreachable(options, error);
  });
  const result = await seedDirectus({ client, desired, log: (line) => options.log(`seed: ${line}`) }).catch((error: unknown) => {
    throw isNetworkError(error) ? unreachable(options, error) : error;
  });
  const { creates, updates } = result.counts;
  options.log(`seeded ${options.seedFile} into ${options.publicUrl}: ${creates} created, ${updates} updated, ${result.writeRequests} write request(s); nothing deleted (see docs/delivery.md)`);
  return result;
}

function credentialsOf(options: StackSeedOptions): DirectusCredentials {
  if (options.token) return { token: options.token };
  const value = (name: string) => options.stackEnv.find((e) => e.name === name)?.value;
  const email = value("ADMIN_EMAIL");
  const password = value("ADMIN_PASSWORD");
  if (!email || !password) {
    throw new PortainerError(`the Portainer stack of ${options.stackName} holds no ADMIN_EMAIL/ADMIN_PASSWORD in its env: set DIRECTUS_TOKEN (an admin's static token) to seed it`);
  }
  return { email, password };
}

/** fetch's own failure (refused, DNS, TLS), or our request timeout (lib/directus-client.ts). */
function isNetworkError(error: unknown): boolean {
  return (error instanceof TypeError && /fetch failed/.test(error.message)) || (error instanceof Error && error.message.startsWith("Directus did not answer"));
}

function unreachable(options: StackSeedOptions, error: unknown): Error {
  if (!isNetworkError(error)) {
    const message = (error as { errors?: { message?: string }[] })?.errors?.[0]?.message ?? (error as Error).message;
    return new PortainerError(`seeding ${options.stackName}: Directus at ${options.publicUrl} refused the login: ${message}; with a token, set DIRECTUS_TOKEN`);
  }
  return new PortainerError(
    `seeding ${options.stackName}: this runner cannot reach Directus at ${options.publicUrl} (${causeOf(error)}): ` +
      `set publicUrl in Pulumi.${options.stackName}.yaml to the address Directus answers at, reachable from the runner`,
  );
}
