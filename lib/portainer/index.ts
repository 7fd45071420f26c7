/** Portainer CE 2.23: the stack client, the Docker proxy reader, and the health-gated rollout. */
export { PortainerError, portainerApi, type PortainerApi, type PortainerTarget } from "./api";
export { deployToPortainer, invokeStackWebhook, normalizeStackName, readStackVersion, requireStack, type DeployOptions, type DeployResult } from "./client";
export { containerLogs, demultiplex, serviceContainers, type ContainerState } from "./docker-proxy";
export { DEFAULT_HEALTH_TIMEOUT_SECONDS, describeStartupStep, directusImageOf, rolloutToPortainer, RolloutError, waitForDirectus, type RolloutResult } from "./rollout";
