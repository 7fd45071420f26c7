# TRM Directus: upstream Directus plus our migrations, schema snapshot and start-up script.
# Nothing is mounted at run time and no secret or .env is baked in: configuration is env only.
# Build inputs come from `npm run build:image` (dist/image/bin: the bundled runners, plain JS).
FROM directus/directus:11.17.4

COPY --chown=node:node dist/image/bin/ /directus/trm/bin/
COPY --chown=node:node db-init/ /directus/trm/db-init/
COPY --chown=node:node db-post/ /directus/trm/db-post/
COPY --chown=node:node snapshots/ /directus/trm/snapshots/
COPY --chown=node:node extensions/ /directus/extensions/
COPY --chown=node:node scripts/image/startup.sh scripts/image/ecosystem.config.cjs scripts/image/server-gate.mjs /directus/trm/

# Upstream's ecosystem.config.cjs restarts a crashed Directus only when this is true.
ENV PM2_AUTO_RESTART=true

USER node
WORKDIR /directus
EXPOSE 8055
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8055/server/health').then(r => r.json()).then(h => process.exit(h.status === 'ok' ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/bin/sh", "/directus/trm/startup.sh"]
CMD []
