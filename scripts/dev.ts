/**
 * npm run dev [-- <stack>] [--prepare-only]: stands up a stack (default dev) with one command,
 * bringing what the machine lacks first, each step timed:
 *   1. the Pulumi CLI (PATH, cache, download, or the offline toolchain), while
 *   2. a Docker daemon and
 *   3. the upstream images (pulled, or local stand-ins where no registry answers) are brought;
 *   4. the stack: local state backend, stack, generated secrets, the provider plugins (downloaded
 *      where possible; where not, it stops here, naming each missing one and how to install it),
 *   5. `pulumi up` of the program, inline (no language host needed), streamed; then the admin URL.
 * --refresh makes it `pulumi up --refresh` (repairs drift); --prepare-only stops after step 4 (CI uses it).
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { ensureDocker, ensureImages, stackImages } from "./lib/machine";
import { ensurePlugins } from "./lib/plugins";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources, type FoundPulumi } from "./lib/pulumi-cli";
import { describeFailure, ensureSecrets, openStack, readOutputs, streamErrors, streamOutput } from "./lib/stack";

const log = (line: string) => console.log(`dev: ${line}`);

/** Runs one step, saying what it does and how long it took. */
export async function step<T>(label: string, run: () => Promise<T> | T, say: (line: string) => void = log): Promise<T> {
  say(`${label} ...`);
  const started = Date.now();
  const result = await run();
  say(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/**
 * Steps 1-4: everything `pulumi up` needs, on any machine. The CLI and the Docker side are
 * independent, so they are brought side by side (on a machine without internet both are builds).
 */
export async function prepare(stackName: string): Promise<{ stack: Stack; pulumi: FoundPulumi }> {
  const [pulumi] = await Promise.all([
    step("1/5 Pulumi CLI", async () => {
      const found = await findPulumi(pinnedPulumiVersion(), realPulumiSources, log);
      log(`using pulumi ${found.command.version} (${found.source}: ${found.command.command})`);
      return found;
    }),
    (async () => {
      await step("2/5 Docker daemon", async () => log(`Docker daemon ${await ensureDocker(log)}`));
      await step("3/5 images", async () => {
        for (const [image, source] of Object.entries(await ensureImages(stackImages(stackName), log))) log(`${image}: ${source}`);
      });
    })(),
  ]);
  const stack = await step("4/5 stack, secrets and plugins", async () => {
    const opened = await openStack(stackName, { pulumi: pulumi.command, env: engineEnv(pulumi) });
    for (const key of await ensureSecrets(opened)) log(`generated ${key} (stored encrypted in Pulumi.${stackName}.yaml)`);
    await ensurePlugins(opened.workspace, { canDownload: !pulumi.offline, log });
    return opened;
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
