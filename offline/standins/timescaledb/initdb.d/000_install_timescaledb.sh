#!/usr/bin/env bash
# Stand-in for the real image's 000_install_timescaledb.sh: "pre-creates" the
# timescaledb extension (here: the TEST DOUBLE, not TimescaleDB) in the postgres,
# template1 and $POSTGRES_DB databases, and records the telemetry setting.
# Runs once, during init, against the unix-socket-only temporary server.
set -Eeo pipefail

create_sql="$(mktemp)"
trap 'rm -f "$create_sql"' EXIT

echo 'CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;' >"$create_sql"

telemetry='basic'
if [ "${TIMESCALEDB_TELEMETRY:-}" = 'off' ]; then
  telemetry='off'
  # The real image unschedules its telemetry job; the double records the call.
  echo 'SELECT alter_job(1, scheduled => false);' >>"$create_sql"
fi
# A placeholder setting: PostgreSQL accepts it without the (absent) TimescaleDB library.
echo "timescaledb.telemetry_level=${telemetry}" >>"$PGDATA/postgresql.conf"

export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
psql_opts=(-X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password)

PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname postgres -f "$create_sql" >/dev/null
PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname template1 -f "$create_sql" >/dev/null
if [ "${POSTGRES_DB:-postgres}" != 'postgres' ]; then
  PGHOST='' PGHOSTADDR='' psql "${psql_opts[@]}" --dbname "$POSTGRES_DB" -f "$create_sql" >/dev/null
fi
echo "000_install_timescaledb.sh: extension timescaledb (TEST DOUBLE) created in postgres, template1 and ${POSTGRES_DB:-postgres}"
