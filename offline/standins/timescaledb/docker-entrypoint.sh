#!/usr/bin/env bash
# Entry point of the local stand-in for timescale/timescaledb-ha:pg16.6-ts2.17.2-all.
#
# Follows the conventions of the real image's entry point (the docker-library postgres one):
#   - env POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER
#     (default postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS,
#     POSTGRES_HOST_AUTH_METHOD, and *_FILE variants of the first three;
#   - initdb only when $PGDATA has no PG_VERSION, then a unix-socket-only temporary server
#     (nothing listens on TCP, so `pg_isready -h 127.0.0.1` stays "no response" during init),
#     CREATE DATABASE $POSTGRES_DB, the scripts in /docker-entrypoint-initdb.d, stop;
#   - `host all all all <scram-sha-256>` appended to pg_hba.conf; listen_addresses='*' (from
#     postgresql.conf.sample, see Dockerfile);
#   - finally `exec postgres` so PostgreSQL is PID 1 and gets docker's stop signal
#     (STOPSIGNAL SIGINT: a fast shutdown).
set -Eeo pipefail

file_env() {
  local var="$1" def="${2:-}" fileVar="${1}_FILE" val
  if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
    printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
    exit 1
  fi
  val="$def"
  if [ -n "${!var:-}" ]; then
    val="${!var}"
  elif [ -n "${!fileVar:-}" ]; then
    val="$(<"${!fileVar}")"
  fi
  export "$var"="$val"
  unset "$fileVar"
}

wants_help() {
  local arg
  for arg; do
    case "$arg" in -'?'|--help|--describe-config|-V|--version) return 0 ;; esac
  done
  return 1
}

# psql against the temporary server, over the unix socket only.
process_sql() {
  local runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  [ -n "$POSTGRES_DB" ] && runner+=(--dbname "$POSTGRES_DB")
  PGHOST='' PGHOSTADDR='' "${runner[@]}" "$@"
}

run_init_files() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        # shellcheck disable=SC1090  # init scripts are found at run time
        if [ -x "$f" ]; then echo "$0: running $f"; "$f"
        else echo "$0: sourcing $f"; . "$f"; fi ;;
      *.sql)    echo "$0: running $f"; process_sql -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | process_sql ;;
      *.sql.xz) echo "$0: running $f"; xzcat "$f" | process_sql ;;
      *)        echo "$0: ignoring $f" ;;
    esac
  done
}

main() {
  if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
  fi
  if [ "$1" != 'postgres' ] || wants_help "$@"; then
    exec "$@"
  fi

  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"

  mkdir -p "$PGDATA" 2>/dev/null || :
  chmod 700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 2777 /var/run/postgresql 2>/dev/null || :

  if [ "$(id -u)" = 0 ]; then
    # Started with --user root: fix ownership, then run as postgres (uid 1000).
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi

  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
      cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
EOE
      exit 1
    fi
    if [ "$(stat -c %u "$PGDATA")" != "$(id -u)" ]; then
      echo >&2 "Error: $PGDATA is owned by uid $(stat -c %u "$PGDATA"), not by $(id -un) (uid $(id -u))."
      exit 1
    fi

    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words by design.
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS

    local auth
    auth="$(postgres -C password_encryption)"
    : "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

    export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
    # Temporary server: unix socket only, so nothing on TCP reports ready during init.
    PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" \
      -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

    # (psql interpolates :'db' only in input it reads, not in -c commands.) POSTGRES_DB=''
    # keeps process_sql from adding --dbname "$POSTGRES_DB"; db= gets the real name.
    # shellcheck disable=SC2097,SC2098
    if [ -z "$(POSTGRES_DB='' process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only \
                 <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")" ]; then
      # shellcheck disable=SC2097,SC2098
      POSTGRES_DB='' process_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    run_init_files

    PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    printf '\nPostgreSQL init process complete; ready for start up.\n\n'
  else
    printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
  fi

  exec "$@"
}

main "$@"
