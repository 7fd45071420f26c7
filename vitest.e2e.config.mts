import { defineConfig } from "vitest/config";

/**
 * The end-to-end suites under the real Pulumi engine and Docker, one file per run, in order:
 * `npm run test:e2e:engine` (the dynamic resources, no plugin) and `npm run test:e2e:stack` (the whole
 * program, where the provider plugins are installed). Each script names its JSON results file.
 */
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.test.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 90 * 60_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default", "json"],
    outputFile: { json: ".vitest/e2e-results.json" },
  },
});
