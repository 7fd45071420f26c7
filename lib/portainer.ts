/** Portainer CE 2.23 (lib/portainer/): the stack client, the Docker proxy reader, and the health-gated rollout. */
export { PortainerError, portainerApi, type PortainerApi, type PortainerTarget } from "./portainer/api";
export { deployToPortainer, invokeStackWebhook, normalizeStackName, readStackVersion, requireStack, type DeployOptions, type DeployResult } from "./portainer/client";
export { containerLogs, demultiplex, serviceContainers, type ContainerState } from "./portainer/docker-proxy";
export { DEFAULT_HEALTH_TIMEOUT_SECONDS, describeStartupStep, directusImageOf, rolloutToPortainer, RolloutError, waitForDirectus, type RolloutResult } from "./portainer/rollout";
