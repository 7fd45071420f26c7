/**
 * npx tsx scripts/compose-boot.ts [--compose <docker-compose>] [--name <project>] [--stack stage] [--image <tag>] [--skip-build] [--timeout <s>]
 * Boots the rendered stage compose (what Portainer runs) with the Directus image built from this
 * checkout, using docker compose v2.29.2 (default: the one scripts/ci-tools.sh builds): healthy,
 * seeded, smoke-checked, seeded again with 0 writes, then `down -v`. Prints each phase's time.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { composeBoot } from "../tools/compose-boot";
import { REPO_ROOT } from "./lib/stack";

const log = (line: string) => console.log(`compose-boot: ${line}`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      compose: { type: "string" },
      name: { type: "string" },
      stack: { type: "string", default: "stage" },
      image: { type: "string", default: "trm-directus:compose-boot" },
      "skip-build": { type: "boolean", default: false },
      timeout: { type: "string", default: "600" },
    },
  });
  const timeout = Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error(`--timeout ${values.timeout}: a whole number of seconds above 0`);
  const composeBinary =
    values.compose ?? path.join(execFileSync("bash", [path.join(REPO_ROOT, "scripts/ci-tools.sh")], { encoding: "utf8" }).trim().split("\n").at(-1)!, "docker-compose");
  const started = Date.now();
  const times = await composeBoot({
    composeBinary,
    project: values.name ?? `trm-compose-boot-${randomBytes(3).toString("hex")}`,
    stack: values.stack!,
    image: values.image!,
    skipBuild: values["skip-build"]!,
    healthTimeoutSeconds: timeout,
    log,
  });
  const total = Math.round((Date.now() - started) / 100) / 10;
  log(`passed in ${total} s (${Object.entries(times).map(([phase, s]) => `${phase} ${s} s`).join(", ")})`);
}

main().catch((error: Error) => {
  console.error(`compose-boot: FAILED ${error.message}`);
  process.exitCode = process.exitCode || 1;
});
