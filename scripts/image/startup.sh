#!/bin/sh
# TRM Directus start-up, every boot, each step idempotent and logged:
#   1 pre-schema migrations  2 directus bootstrap (skipped when it has nothing to do)
#   3 schema from the bundled snapshot (no Directus load when nothing changed since the last check;
#     when bootstrap ran, the Directus it loaded applies the schema: one process for steps 2 and 3)
#   4 post-schema migrations  5 Directus starts (pm2-runtime: crash recovery)
# pm2-runtime starts with step 1, so Directus loads its modules while the steps run; server-gate.mjs
# holds it, before it touches the database, until step 4 is done (step 5 opens the gate).
# Any failing step stops pm2 and this script, Directus never started, with the error as the last log lines.
# Schema drift (what the database has that the snapshot lacks) is no failure: step 3 keeps it, applies
# the rest, logs it loudly and records it in trm_startup.schema_drift (docs/schema.md).
# Paths default to the image's; point them elsewhere to run the same script outside a container.
set -eu

DIRECTUS_DIR="${DIRECTUS_DIR:-/directus}"
HERE=$(cd "$(dirname "$0")" && pwd)
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

# A fresh gate each boot: a restarted container keeps its /tmp, and with it the last boot's open gate.
gate_dir=$(mktemp -d)
trap 'rm -rf "$gate_dir"' EXIT
export TRM_SERVER_GATE="$gate_dir/open"
# pm2's output waits in a pipe until step 5 (its "Launching in no daemon mode" would otherwise land
# among the steps' lines, even between a step's error and the FAILED line). fd 5 keeps the pipe open
# without a reader, so nothing blocks; step 5 relays it from then on.
pm2_out="$gate_dir/pm2-output"
mkfifo "$pm2_out"
exec 5<>"$pm2_out"
(exec 5<&- && cd "$DIRECTUS_DIR" && exec pm2-runtime start "$HERE/ecosystem.config.cjs") >"$pm2_out" 2>&1 &
server=$!

# Before the gate opens Directus has done nothing but load: pm2 is killed outright (its Directus
# exits with it), so no shutdown chatter comes between a step's error and the FAILED line.
stop_server() {
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  exec 5<&- # what pm2 printed meanwhile goes with the pipe
}
fail() {
  stop_server
  log "FAILED at step $1 (exit $2): Directus was not started. See the lines above."
  exit "$2"
}
# Stopped during the steps: Directus has not started, so pm2 goes and so does this script.
trap 'stop_server; exit 143' TERM INT

log "==> 1/5 pre-schema migrations from $DB_INIT_DIR"
node "$TRM_BIN/db-init.cjs" "$DB_INIT_DIR" || fail "1/5 pre-schema migrations" $?

log "==> 2/5 directus bootstrap"
# Steps 2 and 3 share one process, so a first boot loads Directus once for both: it prints the 3/5
# line itself and writes each step's name to fd 3 as it begins (the last one is where it stopped).
exec 4>&1
rc=0
steps=$(TRM_STEP_FD=3 node "$TRM_BIN/directus-setup.cjs" "$SCHEMA_SNAPSHOT" 3>&1 1>&4) || rc=$?
exec 4>&-
[ "$rc" -eq 0 ] || fail "$(printf '%s\n' "${steps:-2/5 bootstrap}" | tail -n 1)" "$rc"

log "==> 4/5 post-schema migrations from $DB_POST_DIR"
node "$TRM_BIN/db-init.cjs" "$DB_POST_DIR" || fail "4/5 post-schema migrations" $?

log "==> 5/5 starting Directus (pm2-runtime start ecosystem.config.cjs)"
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
# The relay reads through its own read-only end, opened before fd 5 closes: pm2 always has a reader,
# and once fd 5 is closed pm2 is the only writer, so the relay ends when pm2 does.
exec 6<"$pm2_out"
cat <&6 5<&- 6<&- &
relay=$!
exec 6<&- 5<&-
: > "$TRM_SERVER_GATE"
# From here this shell only stays pm2's parent: docker stop's signal is passed on (the trap above),
# which makes wait return early, so it waits again until pm2 has gone, then for its last lines, and
# ends with pm2's status.
while :; do
  rc=0
  wait "$server" || rc=$?
  kill -0 "$server" 2>/dev/null || break
done
wait "$relay" || true
exit "$rc"
