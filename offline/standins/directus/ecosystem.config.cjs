/**
 * pm2 process file of the local directus/directus:11.17.4 stand-in image.
 * Same behaviour as the one upstream's image puts at /directus/ecosystem.config.cjs:
 * one app, "directus", running `node cli.js start` in cluster mode, waiting for the
 * app's ready signal, tunable through the PM2_* environment variables.
 * Reference: https://pm2.keymetrics.io/docs/usage/application-declaration/
 */
const env = process.env;

module.exports = [
	{
		name: 'directus',
		script: 'cli.js',
		args: ['start'],

		instances: env.PM2_INSTANCES ?? 1,
		exec_mode: env.PM2_EXEC_MODE ?? 'cluster',
		max_memory_restart: env.PM2_MAX_MEMORY_RESTART,

		min_uptime: env.PM2_MIN_UPTIME,
		listen_timeout: env.PM2_LISTEN_TIMEOUT,
		kill_timeout: env.PM2_KILL_TIMEOUT,
		wait_ready: true,
		max_restarts: env.PM2_MAX_RESTARTS,
		restart_delay: env.PM2_RESTART_DELAY ?? 0,
		autorestart: env.PM2_AUTO_RESTART === 'true',
	},
];
