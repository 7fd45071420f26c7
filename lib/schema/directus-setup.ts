/**
 * The start-up's steps 2 (bootstrap) and 3 (schema) in one Directus process: when bootstrap has work
 * (a fresh database, an upgrade), the Directus loaded for it (lib/schema/directus-worker.ts) goes on to
 * snapshot, diff and apply. Run as two commands, a first boot loaded Directus twice (~2.5 s each)
 * before the server's own load. When bootstrap has nothing to do (directus-install.ts), nothing is
 * loaded for it and the schema step decides alone, as before (its shortcut often needs no Directus).
 */
import { applySchema, type ApplySchemaOptions, type ApplySchemaResult } from "./directus-cli";
import { whyBootstrap } from "./directus-install";
import { DirectusSchemaWorker } from "./worker-client";

export type SetupStep = "2/5 bootstrap" | "3/5 schema";

export interface DirectusSetupOptions extends Omit<ApplySchemaOptions, "worker"> {
  /** Told when each step begins (the start-up logs its marker line and names the step a failure stopped in). */
  enterStep: (step: SetupStep) => void;
}

const LOG_PREFIX = "bootstrap:";

export async function bootstrapAndApplySchema(options: DirectusSetupOptions): Promise<ApplySchemaResult> {
  const { log } = options;
  const env = options.env ?? process.env;
  options.enterStep("2/5 bootstrap");
  const reason = await whyBootstrap(options.directusDir, env);
  let worker: DirectusSchemaWorker | undefined;
  try {
    if (reason === null) {
      log(`${LOG_PREFIX} skipped: Directus is installed and every migration it ships is applied`);
    } else {
      log(`${LOG_PREFIX} running Directus's bootstrap, in the Directus process the schema step goes on with (${reason})`);
      worker = await DirectusSchemaWorker.start({
        directusDir: options.directusDir,
        nodeBin: options.nodeBin,
        env,
        timeoutSeconds: options.timeoutSeconds ?? 120,
        allowNotInstalled: true,
      });
      for (const line of await worker.bootstrap()) log(line);
    }
    options.enterStep("3/5 schema");
    return await applySchema({ ...options, env, worker });
  } finally {
    await worker?.close();
  }
}
