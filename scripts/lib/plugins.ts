/**
 * The provider plugins the program needs (docker, postgresql, command) and whether Pulumi's plugin
 * cache has them. Where they can be downloaded, they are installed at the pinned versions before
 * anything runs; where they cannot (no internet: no registry serves them), the scripts stop before
 * creating anything and say how to install each from a file.
 */
import type { Workspace } from "@pulumi/pulumi/automation";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./stack";

export interface Plugin {
  name: string;
  version: string;
}

/** The provider packages the program imports; each names its plugin and version in package.json's `pulumi` field. */
export const PROVIDER_PACKAGES = ["@pulumi/docker", "@pulumi/postgresql", "@pulumi/command"] as const;

export function requiredPlugins(root = REPO_ROOT): Plugin[] {
  return PROVIDER_PACKAGES.map((pkg) => {
    const manifest = JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8"));
    const { name, version } = manifest.pulumi ?? {};
    if (!name || !version) throw new Error(`${pkg}/package.json has no pulumi.name/pulumi.version: run npm ci`);
    return { name, version };
  });
}

/**
 * Whether every plugin is in the plugin cache as Pulumi lays it out (`<PULUMI_HOME>/plugins/
 * resource-<name>-v<version>`, its install finished: no `.partial` beside it), read directly: the
 * scripts check before every operation, and `pulumi plugin ls` is a CLI call (~0.15 s).
 */
export function allInPluginCache(plugins: Plugin[], pulumiHome: string): boolean {
  const dir = (p: Plugin) => path.join(pulumiHome, "plugins", `resource-${p.name}-v${p.version}`);
  return plugins.every((p) => existsSync(dir(p)) && !existsSync(`${dir(p)}.partial`));
}

/** The plugin cache's folder, as the CLI the workspace runs finds it. */
export function pulumiHomeOf(workspace: Workspace): string {
  return workspace.pulumiHome ?? workspace.envVars?.PULUMI_HOME ?? process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
}

/** Resource plugins in the plugin cache (`pulumi plugin ls`). */
export async function installedPlugins(workspace: Workspace): Promise<Plugin[]> {
  const listed = await workspace.listPlugins();
  return listed.filter((p) => p.kind === "resource" && p.version).map((p) => ({ name: p.name, version: p.version! }));
}

export function missingPlugins(required: Plugin[], installed: Plugin[]): Plugin[] {
  return required.filter((r) => !installed.some((i) => i.name === r.name && i.version === r.version));
}

export const describePlugins = (plugins: Plugin[]): string => plugins.map((p) => `${p.name} ${p.version}`).join(", ");

export class MissingPluginsError extends Error {
  constructor(
    readonly missing: Plugin[],
    pulumiPath: string,
  ) {
    super(
      [
        `the Pulumi provider plugins the program needs are not installed and cannot be downloaded here: ${describePlugins(missing)}.`,
        "Nothing was created. Install each from a file (the plugin binary or its release tarball, for example",
        "from ~/.pulumi/plugins of a machine with internet), then run this again:",
        ...missing.map((p) => `  ${pulumiPath} plugin install resource ${p.name} ${p.version} --file FILE`),
      ].join("\n"),
    );
    this.name = "MissingPluginsError";
  }
}

/**
 * Every required plugin in the plugin cache: missing ones are installed at their pinned versions
 * when `canDownload`; throws MissingPluginsError naming what is still missing.
 */
export async function ensurePlugins(
  workspace: Workspace,
  options: { canDownload: boolean; log: (line: string) => void },
): Promise<void> {
  const required = requiredPlugins(workspace.workDir);
  if (allInPluginCache(required, pulumiHomeOf(workspace))) return;
  // the CLI decides what is missing
  let missing = missingPlugins(required, await installedPlugins(workspace));
  if (missing.length > 0 && options.canDownload) {
    for (const plugin of missing) {
      options.log(`installing the ${plugin.name} ${plugin.version} provider plugin`);
      await workspace
        .installPlugin(plugin.name, plugin.version)
        .catch((error: Error) => options.log(`cannot install ${plugin.name} ${plugin.version}: ${error.message.split("\n")[0]}`));
    }
    missing = missingPlugins(required, await installedPlugins(workspace));
  }
  if (missing.length > 0) throw new MissingPluginsError(missing, workspace.pulumiCommand.command);
}
