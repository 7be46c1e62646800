#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster from Debian's packages on 127.0.0.1 for the test suites, and prints the
# connection string the tests take in TESSERA_TEST_POSTGRES. Usage: .ci/postgres.sh start|stop
set -euo pipefail

free_port() {
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port between 55432 and 55532" >&2
  exit 1
}

PGPORT="${TESSERA_CI_PGPORT:-}"
PGDATA="${TESSERA_CI_PGDATA:-/tmp/tessera-ci-pg}"
PASSWORD="tessera-ci"
# Tests trade durability for speed; a benchmark that measures what commits cost sets TESSERA_CI_PGDURABLE=1 to keep
# PostgreSQL's defaults (fsync, synchronous_commit and full_page_writes on).
if [ -n "${TESSERA_CI_PGDURABLE:-}" ]; then DURABILITY=""; else DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    BIN=$(bin_dir)
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      rm -rf "$PGDATA"
      mkdir -p "$PGDATA"
      [ "$(id -u)" = "0" ] && chown postgres:postgres "$PGDATA"
      pwfile=$(mktemp)
      echo "$PASSWORD" > "$pwfile"
      chmod 644 "$pwfile"
      as_postgres "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 >/dev/null
      rm -f "$pwfile"
    fi
    if as_postgres "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      PGPORT=$(cat "$PGDATA/tessera-port")
    else
      PGPORT="${PGPORT:-$(free_port)}"
      echo "$PGPORT" > "$PGDATA/tessera-port"
      if ! as_postgres "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c max_connections=300 $DURABILITY -k /tmp" start >/dev/null; then
        tail -n 20 "$PGDATA/server.log" >&2
        exit 1
      fi
    fi
    echo "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Password=$PASSWORD;Database=postgres;Timeout=30;Command Timeout=60"
    ;;
  stop)
    BIN=$(bin_dir)
    as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
