import { build } from "esbuild";
import * as path from "node:path";

export const IMAGE_BUNDLE_DIR = path.join("dist", "image", "bin");

/** Plain-JS entry points the image runs with its own Node: no node_modules, no npm at run time. */
const ENTRY_POINTS = {
  "db-init": "scripts/db-init.ts",
  bootstrap: "scripts/image/bootstrap.ts",
  "schema-apply": "scripts/image/schema-apply.ts",
  // Steps 2 and 3 of the start-up in one Directus process (startup.sh runs this, not the two above).
  "directus-setup": "scripts/image/directus-setup.ts",
  // Loads Directus's own schema functions from the image's /directus (lib/schema/worker-client.ts runs it).
  "schema-worker": "lib/schema/directus-worker.ts",
};

/**
 * Bundles the migration runner, the bootstrap and schema steps into single CJS files under dist/image/bin.
 * Deterministic for the same sources, so the Docker build context (and the image) only changes
 * when they do. Used by `npm run build:image` and by the Pulumi DirectusImage component. esbuild
 * bundles in its own process, so the program's thread stays free to register resources meanwhile.
 */
export async function buildImageBundle(repoRoot: string): Promise<string> {
  const root = path.resolve(repoRoot);
  const outdir = path.join(root, IMAGE_BUNDLE_DIR);
  await build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    outExtension: { ".js": ".cjs" },
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    external: ["pg-native"], // pg's optional native binding: never used
    legalComments: "none",
    logLevel: "error",
  });
  return outdir;
}
