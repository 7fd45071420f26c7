import { defineConfig } from "vitest/config";

/** `npm run test:e2e`: the real Pulumi engine, Docker and the stack, in order, one file. */
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.test.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 90 * 60_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default", ["json", { outputFile: ".vitest/e2e-results.json" }]],
  },
});
