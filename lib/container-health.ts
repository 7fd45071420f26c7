/**
 * docker.Container arguments that make `pulumi up` wait until Docker reports the container healthy,
 * allowing a slow first boot, and restart it after a crash or a host reboot.
 */
export function waitUntilHealthy(tests: string[], options: { intervalSeconds: number; firstBootSeconds: number }) {
  return {
    healthcheck: {
      tests,
      interval: goDuration(options.intervalSeconds),
      timeout: goDuration(5),
      retries: 5,
      startPeriod: goDuration(options.firstBootSeconds),
    },
    wait: true,
    waitTimeout: options.firstBootSeconds,
    restart: "unless-stopped",
  };
}

/**
 * Whole seconds as Go's time.Duration.String() prints them ("2s", "5m0s", "1h0m0s"). The docker
 * provider reads a container's healthcheck back that way, so "300s" would differ from state on
 * every `pulumi up` and update the container each time.
 */
export function goDuration(totalSeconds: number): string {
  if (!Number.isInteger(totalSeconds) || totalSeconds < 0) throw new Error(`goDuration: ${totalSeconds} is not a whole number of seconds`);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
