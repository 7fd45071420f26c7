/**
 * pm2's process file for the TRM image: upstream's own (/directus/ecosystem.config.cjs, with every
 * PM2_* setting it reads) plus server-gate.mjs preloaded into Directus. startup.sh starts pm2 with
 * this file from the Directus folder, at the same time as its steps, so Directus loads its modules
 * while they run and starts only once step 4 is done.
 */
const path = require("node:path");

const directusDir = process.cwd();
const gate = path.join(__dirname, "server-gate.mjs");

module.exports = require(path.join(directusDir, "ecosystem.config.cjs")).map((app) => ({
  ...app,
  cwd: directusDir,
  node_args: [...[app.node_args ?? []].flat(), "--import", gate],
}));
