#!/bin/sh
# TRM Directus start-up, every boot, each step idempotent and logged:
#   1 pre-schema migrations  2 directus bootstrap (skipped when it has nothing to do)
#   3 schema from the bundled snapshot (no Directus load when nothing changed since the last check)
#   4 post-schema migrations  5 exec pm2-runtime (crash recovery)
# Any failing step stops here, before Directus starts, with the error as the last log lines.
# Schema drift (what the database has that the snapshot lacks) is no failure: step 3 keeps it, applies
# the rest, logs it loudly and records it in trm_startup.schema_drift (docs/schema.md).
# Paths default to the image's; point them elsewhere to run the same script outside a container.
set -eu

DIRECTUS_DIR="${DIRECTUS_DIR:-/directus}"
TRM_DIR="${TRM_DIR:-$DIRECTUS_DIR/trm}"
TRM_BIN="${TRM_BIN:-$TRM_DIR/bin}"
DB_INIT_DIR="${DB_INIT_DIR:-$TRM_DIR/db-init}"
DB_POST_DIR="${DB_POST_DIR:-$TRM_DIR/db-post}"
SCHEMA_SNAPSHOT="${SCHEMA_SNAPSHOT:-$TRM_DIR/snapshots/schema.yaml}"
export SCHEMA_APPLY_MODE="${SCHEMA_APPLY_MODE:-apply}"
export SCHEMA_ALLOW_DELETIONS="${SCHEMA_ALLOW_DELETIONS:-false}"

# One stream: stdout and stderr of every step reach `docker logs` (or whatever reads this script) in
# the order they were written; two pipes give no order between them, so an error could follow the
# FAILED line that reports it.
exec 2>&1

log() { echo "[trm-startup] $*"; }
fail() {
  log "FAILED at step $1 (exit $2): Directus was not started. See the lines above."
  exit "$2"
}

log "==> 1/5 pre-schema migrations from $DB_INIT_DIR"
node "$TRM_BIN/db-init.cjs" "$DB_INIT_DIR" || fail "1/5 pre-schema migrations" $?

log "==> 2/5 directus bootstrap"
node "$TRM_BIN/bootstrap.cjs" || fail "2/5 bootstrap" $?

log "==> 3/5 schema from $SCHEMA_SNAPSHOT (SCHEMA_APPLY_MODE=$SCHEMA_APPLY_MODE)"
node "$TRM_BIN/schema-apply.cjs" "$SCHEMA_SNAPSHOT" || fail "3/5 schema" $?

log "==> 4/5 post-schema migrations from $DB_POST_DIR"
node "$TRM_BIN/db-init.cjs" "$DB_POST_DIR" || fail "4/5 post-schema migrations" $?

log "==> 5/5 starting Directus (pm2-runtime start ecosystem.config.cjs)"
cd "$DIRECTUS_DIR"
exec pm2-runtime start ecosystem.config.cjs
