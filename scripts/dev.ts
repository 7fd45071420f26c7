/**
 * npm run dev [-- <stack>] [--prepare-only]: stands up a stack (default dev) with one command,
 * bringing what the machine lacks first, each step timed:
 *   1. the Pulumi CLI (PATH, cache, download, or the offline toolchain),
 *   2. a Docker daemon,
 *   3. the upstream images (pulled, or local stand-ins where no registry answers),
 *   4. the stack: local state backend, stack, generated secrets,
 *   5. `pulumi up`, streamed; then the admin URL.
 * --refresh makes it `pulumi up --refresh` (repairs drift); --prepare-only stops after step 4 (CI uses it).
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { DEFAULT_DATABASE_IMAGE } from "../lib/stack-config";
import { dockerfileBaseImage, ensureDocker, ensureImages } from "./lib/machine";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources, type FoundPulumi } from "./lib/pulumi-cli";
import { describeFailure, ensureSecrets, openStack, readOutputs, streamErrors, streamOutput } from "./lib/stack";

const log = (line: string) => console.log(`dev: ${line}`);

/** Runs one step, saying what it does and how long it took. */
export async function step<T>(label: string, run: () => Promise<T> | T): Promise<T> {
  log(`${label} ...`);
  const started = Date.now();
  const result = await run();
  log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Steps 1-4: everything `pulumi up` needs, on any machine. */
export async function prepare(stackName: string): Promise<{ stack: Stack; pulumi: FoundPulumi }> {
  const pulumi = await step("1/5 Pulumi CLI", async () => {
    const found = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
    log(`using pulumi ${found.command.version} (${found.source}: ${found.command.command})`);
    return found;
  });
  await step("2/5 Docker daemon", () => log(`Docker daemon ${ensureDocker(log)}`));
  const stack = await step("3/5 stack and secrets", async () => {
    const opened = await openStack(stackName, { pulumi: pulumi.command, env: engineEnv(pulumi) });
    for (const key of await ensureSecrets(opened)) log(`generated ${key} (stored encrypted in Pulumi.${stackName}.yaml)`);
    return opened;
  });
  await step("4/5 images", async () => {
    const databaseImage = (await stack.getConfig("databaseImage").catch(() => undefined))?.value || DEFAULT_DATABASE_IMAGE;
    const sources = ensureImages([databaseImage, dockerfileBaseImage()], log);
    for (const [image, source] of Object.entries(sources)) log(`${image}: ${source}`);
  });
  return { stack, pulumi };
}

async function main(): Promise<void> {
  const stackName = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "dev";
  const { stack } = await prepare(stackName);
  if (process.argv.includes("--prepare-only")) return;
  const refresh = process.argv.includes("--refresh");
  await step(`5/5 pulumi up${refresh ? " --refresh" : ""}`, () => stack.up({ onOutput: streamOutput, onError: streamErrors, refresh }));
  const outputs = await readOutputs(stack);
  log(`ready: Directus at ${outputs.directusUrl} (admin ${outputs.adminEmail}; password: npm run stack -- admin-password)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`dev: ERROR ${describeFailure(error)}`);
    process.exitCode = 1;
  });
}
