/**
 * docker.Container arguments that make `pulumi up` wait until Docker reports the container healthy,
 * allowing a slow first boot, and restart it after a crash or a host reboot.
 */
export function waitUntilHealthy(tests: string[], options: { intervalSeconds: number; firstBootSeconds: number }) {
  return {
    healthcheck: {
      tests,
      interval: `${options.intervalSeconds}s`,
      timeout: "5s",
      retries: 5,
      startPeriod: `${options.firstBootSeconds}s`,
    },
    wait: true,
    waitTimeout: options.firstBootSeconds,
    restart: "unless-stopped",
  };
}
