/**
 * tsx scripts/require-plugins.ts "<what>" -- <command> [args...]
 * Runs the command when Pulumi's plugin cache holds the provider plugins the program needs
 * (`pulumi plugin ls`); otherwise prints one line, "SKIPPED <what>: plugins missing: docker 5.2.0, ...",
 * appends it to .vitest/skipped.txt (.ci/run repeats it beside its pass/fail summary) and exits 0.
 * For the suites and benchmarks that run the whole program (index.ts) under the real engine.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { describePlugins, installedPlugins, missingPlugins, requiredPlugins } from "./lib/plugins";
import { engineEnv, findPulumi, pinnedPulumiVersion, realPulumiSources } from "./lib/pulumi-cli";
import { pulumiEnv, REPO_ROOT } from "./lib/stack";

/**
 * Undefined when the plugin cache holds every plugin the program needs; else the SKIPPED line for
 * `what`, printed and recorded in .vitest/skipped.txt.
 */
export async function skipUnlessPluginsInstalled(what: string): Promise<string | undefined> {
  const pulumi = await findPulumi(pinnedPulumiVersion(), realPulumiSources, (line) => console.error(`require-plugins: ${line}`));
  const workspace = await LocalWorkspace.create({
    workDir: REPO_ROOT,
    pulumiCommand: pulumi.command,
    envVars: pulumiEnv(REPO_ROOT, engineEnv(pulumi)),
  });
  const missing = missingPlugins(requiredPlugins(), await installedPlugins(workspace));
  if (missing.length === 0) return undefined;
  const line = `SKIPPED ${what}: plugins missing: ${describePlugins(missing)}`;
  console.log(line);
  mkdirSync(path.join(REPO_ROOT, ".vitest"), { recursive: true });
  appendFileSync(path.join(REPO_ROOT, ".vitest", "skipped.txt"), `${line}\n`);
  return line;
}

async function main(): Promise<void> {
  const [what, separator, command, ...args] = process.argv.slice(2);
  if (!what || separator !== "--" || !command) throw new Error('usage: require-plugins.ts "<what>" -- <command> [args...]');
  if (await skipUnlessPluginsInstalled(what)) return;
  process.exitCode = spawnSync(command, args, { stdio: "inherit" }).status ?? 1;
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`require-plugins: ERROR ${error.message}`);
    process.exitCode = 1;
  });
}
