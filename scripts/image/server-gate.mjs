/**
 * Preloaded (`node --import`) into pm2's Directus by ecosystem.config.cjs. While startup.sh's steps
 * run, it loads Directus's server modules (~2.5 s of a first boot's critical path otherwise), then
 * holds the process until startup.sh creates the file TRM_SERVER_GATE names, once step 4 is done.
 * Loading touches neither the database nor the network: everything that does (extensions, schema,
 * the server) runs after the gate, in cli.js, on a migrated database with its schema applied.
 * An open gate (pm2 restarting a crashed Directus) or none (pm2 run by hand) holds nothing.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";

const gate = process.env.TRM_SERVER_GATE;

if (gate && !existsSync(gate)) {
  // The CLI's module, as cli.js's `import("@directus/api/cli/run.js")` reaches it; importing it runs nothing.
  const require = createRequire(path.join(process.cwd(), "cli.js"));
  const api = path.dirname(require.resolve("@directus/api/package.json"));
  await import(pathToFileURL(path.join(api, "dist", "cli", "index.js")).href);
  while (!existsSync(gate)) await sleep(20);
}
