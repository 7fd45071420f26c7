import * as pulumi from "@pulumi/pulumi";
import { decideReach, probeProgramHost, type ProgramHost, type Reach } from "../lib/reach";
import { CONFIG_KEYS, validateStackConfig, type StackConfig } from "../lib/stack-config";

/**
 * The validated config with its secrets as secret Outputs (plaintext never reaches a resource input),
 * and how the program reaches the containers here (reachContainersBy decided where it runs).
 */
export type ResolvedConfig = Omit<StackConfig, "database" | "directus"> & {
  reach: Reach;
  database: Omit<StackConfig["database"], "password"> & { password: pulumi.Output<string> };
  directus: Omit<StackConfig["directus"], "adminPassword" | "key" | "secret"> & {
    adminPassword: pulumi.Output<string>;
    key: pulumi.Output<string>;
    secret: pulumi.Output<string>;
  };
};

/**
 * Reads every trm-directus:* key (secrets decrypted by the engine), validates them together (with
 * reachContainersBy against where this process runs) and wraps secrets again. Throws StackConfigError
 * listing every problem by key.
 */
export function readStackConfig(host: ProgramHost = probeProgramHost()): ResolvedConfig {
  const project = pulumi.getProject();
  const raw = Object.fromEntries(CONFIG_KEYS.map((key) => [key, pulumi.runtime.getConfig(`${project}:${key}`)]));
  const unknown = Object.keys(pulumi.runtime.allConfig())
    .filter((full) => full.startsWith(`${project}:`))
    .map((full) => full.slice(project.length + 1))
    .filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key));
  const config = reportAsRunError(() =>
    validateStackConfig(pulumi.getStack(), { ...raw, ...Object.fromEntries(unknown.map((k) => [k, "?"])) }, host),
  );
  const decided = decideReach(config.reachContainersBy, host);
  if (!("reach" in decided)) throw new pulumi.RunError(decided.problem); // validated above: not reached
  return {
    ...config,
    reach: decided.reach,
    database: { ...config.database, password: pulumi.secret(config.database.password) },
    directus: {
      ...config.directus,
      adminPassword: pulumi.secret(config.directus.adminPassword),
      key: pulumi.secret(config.directus.key),
      secret: pulumi.secret(config.directus.secret),
    },
  };
}

/**
 * Runs a check of the program's inputs; its failure becomes a RunError, which Pulumi prints as the
 * bare message (every problem, one per line) instead of an object dump with a stack trace.
 */
export function reportAsRunError<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new pulumi.RunError((error as Error).message);
  }
}
