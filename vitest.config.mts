import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["tools/harness/machine-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Integration files each start their own PostgreSQL/Directus; two cores: don't oversubscribe.
    maxWorkers: 2,
    // The JSON copy lets .ci/run print one "N passed, M failed" line for the whole run.
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
  },
});
