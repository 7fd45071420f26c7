/**
 * The image's bootstrap step (bundled to bootstrap.cjs, run by startup.sh with the image's Node):
 *   node bootstrap.cjs
 * Runs `node cli.js bootstrap` in DIRECTUS_DIR unless Directus is installed with every migration it
 * ships applied (then bootstrap has nothing to do). Env: DIRECTUS_DIR, Directus's DB_* and ADMIN_* settings.
 */
import { bootstrapIfNeeded } from "../../lib/schema/directus-install";

bootstrapIfNeeded({
  directusDir: process.env.DIRECTUS_DIR ?? "/directus",
  nodeBin: process.execPath,
  env: process.env,
  log: (line) => console.log(line),
}).catch((error: Error & { exitCode?: number }) => {
  console.error(`bootstrap: ERROR ${error.message}`);
  process.exitCode = error.exitCode ?? 1;
});
