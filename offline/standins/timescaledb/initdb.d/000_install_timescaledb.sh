#!/usr/bin/env bash
# Stand-in for the real image's 000_install_timescaledb.sh, same behaviour: creates the
# timescaledb extension (real TimescaleDB 2.17.2) in the postgres, template1 and
# $POSTGRES_DB databases, and writes timescaledb.telemetry_level to postgresql.conf:
# 'basic', or 'off' with TIMESCALEDB_TELEMETRY=off, which also unschedules the
# telemetry job (job 1) in each of those databases.
# Runs once, during init, against the unix-socket-only temporary server (which already
# preloads timescaledb: shared_preload_libraries comes from postgresql.conf.sample).
set -Eeo pipefail

create_sql="$(mktemp)"
trap 'rm -f "$create_sql"' EXIT

echo 'CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;' >"$create_sql"

telemetry='basic'
if [ "${TIMESCALEDB_TELEMETRY:-}" = 'off' ]; then
  telemetry='off'
  # As the real image: unschedule the telemetry job so it does not log about itself.
  echo 'SELECT alter_job(1, scheduled => false);' >>"$create_sql"
fi
echo "timescaledb.telemetry_level=${telemetry}" >>"$PGDATA/postgresql.conf"

export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
psql_opts=(-X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password)

PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname postgres -f "$create_sql" >/dev/null
PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname template1 -f "$create_sql" >/dev/null
if [ "${POSTGRES_DB:-postgres}" != 'postgres' ]; then
  PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname "$POSTGRES_DB" -f "$create_sql" >/dev/null
fi
echo "000_install_timescaledb.sh: extension timescaledb created in postgres, template1 and ${POSTGRES_DB:-postgres} (telemetry_level=${telemetry})"
