/** Prod by promotion: the exact Directus image (by digest) stage's Portainer stack runs, healthy. */
import { PortainerError, portainerApi, type PortainerTarget } from "./api";
import { readStackVersion, requireStack } from "./client";
import { serviceContainers } from "./docker-proxy";
import { DIRECTUS_SERVICE, directusImageOf, judge } from "./rollout";

/**
 * The Directus image of the source stack's compose text (GET /api/stacks/{id}/file), once its running
 * container (Portainer's Docker proxy) is on that image and healthy; a digest reference, never a tag.
 */
export async function runningDirectusImage(source: PortainerTarget, fetchImpl?: typeof fetch): Promise<string> {
  const api = portainerApi(source, fetchImpl);
  const stack = await requireStack(api, source);
  const image = directusImageOf((await readStackVersion(api, stack)).compose);
  if (!/@sha256:[a-f0-9]{64}$/.test(image)) {
    throw new PortainerError(`stack ${stack.Name} runs Directus ${image}, not pinned by digest: redeploy it through CI (npm run portainer:stack -- --redeploy) before promoting`);
  }
  const containers = await serviceContainers(api, source, stack.Name, DIRECTUS_SERVICE);
  const running = containers.find((c) => c.Config.Image === image);
  const verdict = running ? judge(running) : undefined;
  if (!verdict?.healthy) {
    const state = verdict && !verdict.healthy ? verdict.reason : `no ${DIRECTUS_SERVICE} container runs it`;
    throw new PortainerError(`stack ${stack.Name}'s Directus ${image} is not healthy (${state}): nothing promoted`);
  }
  return image;
}
