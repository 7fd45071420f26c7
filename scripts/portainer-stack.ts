/**
 * npm run portainer:stack: writes the stack's Portainer stack (compose + env, from `pulumi stack
 * output`; the Directus image pinned by digest when the local Docker knows it) to
 * dist/portainer/<stack>.compose.yaml and <stack>.env.json (mode 0600: it holds secrets).
 * With PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID (and PORTAINER_STACK_NAME, default
 * trm-directus) it also creates or updates that stack through Portainer's API.
 * TRM_STACK picks the Pulumi stack (default dev).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { deployToPortainer, pinImage, type PortainerStack } from "../lib/portainer";
import { SettingsError } from "../lib/db/settings";
import { selectStack } from "./lib/pulumi-cli";
import { readOutputs, REPO_ROOT } from "./lib/stack";

function localDigest(image: string): string | undefined {
  const inspect = spawnSync("docker", ["image", "inspect", "--format", "{{json .RepoDigests}}", image], { encoding: "utf8" });
  if (inspect.status !== 0) return undefined;
  const digests = JSON.parse(inspect.stdout) as string[];
  const repo = image.replace(/:[^/:]+$/, "");
  return digests.find((d) => d.startsWith(`${repo}@`));
}

function readTarget(env: NodeJS.ProcessEnv) {
  if (!env.PORTAINER_URL) return undefined;
  const missing = ["PORTAINER_API_KEY", "PORTAINER_ENDPOINT_ID"].filter((k) => !env[k]);
  if (missing.length > 0) throw new SettingsError([`with PORTAINER_URL set, also set: ${missing.join(", ")}`]);
  const endpointId = Number(env.PORTAINER_ENDPOINT_ID);
  if (!Number.isInteger(endpointId)) throw new SettingsError([`PORTAINER_ENDPOINT_ID must be a number, got "${env.PORTAINER_ENDPOINT_ID}"`]);
  return { url: env.PORTAINER_URL, apiKey: env.PORTAINER_API_KEY!, endpointId, stackName: env.PORTAINER_STACK_NAME ?? "trm-directus" };
}

async function main(): Promise<void> {
  const stackName = process.env.TRM_STACK ?? "dev";
  const target = readTarget(process.env);
  const outputs = await readOutputs<{ portainerStack: PortainerStack; registryImage: string }>(
    await selectStack(stackName, (line) => console.error(`portainer: ${line}`), { program: false }),
  );
  const stack = pinImage(outputs.portainerStack, outputs.registryImage, localDigest(outputs.registryImage));

  const dir = path.join(REPO_ROOT, "dist", "portainer");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${stackName}.compose.yaml`), stack.compose);
  writeFileSync(path.join(dir, `${stackName}.env.json`), JSON.stringify(stack.env, null, 2), { mode: 0o600 });
  console.log(`portainer: wrote dist/portainer/${stackName}.compose.yaml and ${stackName}.env.json`);

  if (target) {
    const result = await deployToPortainer(target, stack);
    console.log(`portainer: stack ${target.stackName} ${result.action} (id ${result.id}) on endpoint ${target.endpointId}`);
  }
}

main().catch((error: Error) => {
  console.error(`portainer: ERROR ${error.message}`);
  process.exitCode = 1;
});
