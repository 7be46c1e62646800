#!/usr/bin/env bash
# Tessera against Tessera: client_credentials issuance by two revisions in one run (same wrk settings, both servers
# up, one loaded at a time, warm-up each, measured runs alternating A B A B), for before/after figures of a change.
#
#   BASELINE_REF=<git rev> bash bench/revisions.sh        # the baseline against the working tree
#   BASELINE_REF=<rev> TESSERA_REF=<rev> bash bench/revisions.sh
#
# Other settings as in run.sh (RUNS WARMUP DURATION CONNECTIONS THREADS TESSERA_PORT BENCH_NICE); the baseline
# listens on BASELINE_PORT (default 5092).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BASELINE_REF:?set BASELINE_REF to the revision to compare against}"
BASELINE_PORT=${BASELINE_PORT:-5092}

prerequisites "$TESSERA_PORT" "$BASELINE_PORT"
publish_tessera
CURRENT=$REVISION
mv "$PUB" "$TMP/current"
(TESSERA_REF=$BASELINE_REF; rm -rf "$TMP/src"; publish_tessera; mv "$PUB" "$TMP/baseline")
BASELINE=$(git -C "$ROOT" rev-parse --short "$BASELINE_REF")
PUB="$TMP/current"
configure_tessera "$HERE/tessera.template.json"
sed -e "s|$TESSERA_PORT|$BASELINE_PORT|g" -e "s|bench.db|baseline.db|" "$TMP/tessera.json" >"$TMP/baseline.json"

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

report "Tessera $CURRENT vs $BASELINE, client_credentials, ES256 at+jwt; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up each, ${DURATION}s per measured run" \
  revision "$CURRENT" current "$BASELINE" baseline
verdict
