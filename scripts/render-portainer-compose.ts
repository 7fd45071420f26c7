/**
 * Prints the compose file of the Portainer stack CI redeploys (the stage stack's team settings,
 * Pulumi.stage.yaml, rendered by lib/compose.ts), for validation in .ci/run (tools/compose-check).
 *   tsx scripts/render-portainer-compose.ts [stack]     (default stage)
 * Secrets are placeholders: the compose text never contains them anyway.
 */
import { renderPortainerStack, stackInputFromConfig, type PortainerStack } from "../lib/compose";
import { validateStackConfig, type RawStackConfig } from "../lib/stack-config";
import { REPO_ROOT, teamConfig, withoutProjectPrefix } from "./lib/stack";

const PLACEHOLDER_SECRETS: RawStackConfig = {
  adminPassword: "Placeholder-not-a-secret-7",
  dbPassword: "placeholder-not-a-secret",
  directusKey: "placeholder-key-not-a-secret-0123456789",
  directusSecret: "placeholder-secret-not-a-secret-0123456789",
};

/** The team's settings for a stack (its tracked Pulumi.<stack>.yaml), keys without the project prefix. */
export function teamSettings(stackName: string, workDir = REPO_ROOT): RawStackConfig {
  return withoutProjectPrefix(teamConfig(stackName, workDir));
}

/** The stack's Portainer stack from its team settings, validated as the program validates them. */
export function renderTeamStack(stackName: string): PortainerStack {
  const config = validateStackConfig(stackName, { ...teamSettings(stackName), ...PLACEHOLDER_SECRETS });
  return renderPortainerStack(stackInputFromConfig(config));
}

if (require.main === module) {
  process.stdout.write(renderTeamStack(process.argv[2] ?? "stage").compose);
}
