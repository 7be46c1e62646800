#!/usr/bin/env bash
# Tessera against Tessera: client_credentials issuance by two revisions in one run (same wrk settings, both servers
# up, one loaded at a time, warm-up each, measured runs alternating A B A B), for before/after figures of a change.
#
#   BASELINE_REF=<git rev> bash bench/revisions.sh        # the baseline against the working tree
#   BASELINE_REF=<rev> TESSERA_REF=<rev> bash bench/revisions.sh
#   STORAGE=postgres BASELINE_REF=<rev> bash bench/revisions.sh   # both on a PostgreSQL of this run's own
#
# Other settings as in run.sh (RUNS WARMUP DURATION CONNECTIONS THREADS TESSERA_PORT BENCH_NICE STORAGE PG_PORT); the
# baseline listens on BASELINE_PORT (default 5092). On PostgreSQL each build has a database of its own in the one
# cluster (durable settings), so the idle one's background work shares the machine as it does on SQLite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BASELINE_REF:?set BASELINE_REF to the revision to compare against}"
BASELINE_PORT=${BASELINE_PORT:-5092}
STORAGE=${STORAGE:-sqlite}
PG_PORT=${PG_PORT:-56532}

prerequisites "$TESSERA_PORT" "$BASELINE_PORT"
publish_tessera
CURRENT=$REVISION
mv "$PUB" "$TMP/current"
(TESSERA_REF=$BASELINE_REF; rm -rf "$TMP/src"; publish_tessera; mv "$PUB" "$TMP/baseline")
BASELINE=$(git -C "$ROOT" rev-parse --short "$BASELINE_REF")
PUB="$TMP/current"
case $STORAGE in
  sqlite)
    configure_tessera "$HERE/tessera.template.json"
    sed -e "s|$TESSERA_PORT|$BASELINE_PORT|g" -e "s|bench.db|baseline.db|" "$TMP/tessera.json" >"$TMP/baseline.json"
    ;;
  postgres)
    start_postgres "$PG_PORT"
    for db in current baseline; do psql "$PSQL" -qc "CREATE DATABASE $db" >/dev/null || die "CREATE DATABASE $db failed"; done
    configure_tessera "$HERE/tessera-postgres.template.json"
    sed -e "s|$TESSERA_PORT|$BASELINE_PORT|g" -e "s|Database=postgres|Database=baseline|" "$TMP/tessera.json" >"$TMP/baseline.json"
    sed -i -e "s|Database=postgres|Database=current|" "$TMP/tessera.json"
    ;;
  *) die "STORAGE is sqlite or postgres, not $STORAGE" ;;
esac

start() { # name build config port
  URL[$1]="http://127.0.0.1:$4"
  (cd "$TMP" && exec nice -n "$BENCH_NICE" dotnet "$2/tessera.dll" serve --config "$3" --urls "${URL[$1]}") >"$OUT/$1.log" 2>&1 &
  PID[$1]=$!
  wait_ready "$1" "${URL[$1]}/healthz" || die "$1 did not start, see $OUT/$1.log"
}

say "machine: $(nproc) cores; settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up each, $RUNS x ${DURATION}s each, alternating"
start current "$TMP/current" "$TMP/tessera.json" "$TESSERA_PORT"
start baseline "$TMP/baseline" "$TMP/baseline.json" "$BASELINE_PORT"
for server in current baseline; do
  check=$(node "$HERE/check-token.mjs" "${URL[$server]}" 2>&1) || die "token check failed: $check"
  say "$server: $check"
  warm_up "$server" "$server"
done
for run in $(seq 1 "$RUNS"); do
  for server in current baseline; do
    measure "$run" "$server" "$server"
  done
done
stop_servers

report "Tessera $CURRENT vs $BASELINE ($STORAGE), client_credentials, ES256 at+jwt; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up each, ${DURATION}s per measured run" \
  revision "$CURRENT" current "$BASELINE" baseline
verdict
