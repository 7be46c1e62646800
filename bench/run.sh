#!/usr/bin/env bash
# Peer comparison in one run: client_credentials token issuance (ES256 JWT access tokens) by Tessera, by the
# ceiling (bench/Tessera.Ceiling: an ASP.NET Core endpoint doing only what the grant must), by oidc-provider in
# Node's cluster mode with one worker per core (the peer at its best on this machine), and by oidc-provider as one
# process (its default); same load generator (wrk), same settings; all servers up, one loaded at a time, after a
# warm-up each, measured runs taking the servers in turn.
# Prints a table and the ratios Tessera/clustered peer (the goal), Tessera/ceiling and Tessera/single-process peer;
# exits non-zero if any run had an error.
#
#   bash bench/run.sh
#
# Settings (environment): RUNS=3 WARMUP=30 DURATION=20 CONNECTIONS=32 THREADS=2
#   TESSERA_PORT=5090 PEER_PORT=5091 (cluster) SINGLE_PEER_PORT=5093 CEILING_PORT=5092
#   PEER_WORKERS=$(nproc)  workers of the clustered peer
#   TESSERA_REF=<git rev>  build that revision (git archive) instead of the working tree
#   MIN_RATIO=<x>          also exit non-zero (3) when the median ratio is below x
#   STORAGE=postgres       Tessera on a PostgreSQL of this run's own (durable settings, PG_PORT=56532) instead of
#                          SQLite; the peer keeps its in-memory store (its JWT access tokens are not stored)
#   BENCH_NICE=<n>         scheduling priority of this benchmark (default -10 as root, so other work on the
#                          machine disturbs the runs less; 0 to leave it alone). With Linux autogroups, nice only
#                          ranks processes within one session, so the script moves itself into a session of its
#                          own and sets that session's nice.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_PORT=${PEER_PORT:-5091}
CEILING_PORT=${CEILING_PORT:-5092}
SINGLE_PEER_PORT=${SINGLE_PEER_PORT:-5093}
PEER_WORKERS=${PEER_WORKERS:-$(nproc)}
STORAGE=${STORAGE:-sqlite}
PG_PORT=${PG_PORT:-56532}

prerequisites "$TESSERA_PORT" "$PEER_PORT" "$CEILING_PORT" "$SINGLE_PEER_PORT"
publish_tessera
case $STORAGE in
  sqlite) configure_tessera "$HERE/tessera.template.json" ;;
  postgres) start_postgres "$PG_PORT"; configure_tessera "$HERE/tessera-postgres.template.json" ;;
  *) die "STORAGE is sqlite or postgres, not $STORAGE" ;;
esac
say "dotnet publish -c Release bench/Tessera.Ceiling"
dotnet publish "$HERE/Tessera.Ceiling" -c Release -o "$TMP/ceiling" --nologo >"$OUT/publish-ceiling.log" 2>&1 || die "publishing the ceiling failed, see $OUT/publish-ceiling.log"

# --- servers --------------------------------------------------------------------------------------------------
# Both servers are started once and stay up; only one is under load at a time.
start_servers() {
  start_tessera
  URL[ceiling]="http://127.0.0.1:$CEILING_PORT"
  (cd "$TMP" && exec nice -n "$BENCH_NICE" dotnet "$TMP/ceiling/Tessera.Ceiling.dll" --urls "${URL[ceiling]}") >"$OUT/ceiling.log" 2>&1 &
  PID[ceiling]=$!
  wait_ready ceiling "${URL[ceiling]}/healthz" || die "the ceiling did not start, see $OUT/ceiling.log"
  start_peer oidc-provider-cluster "$PEER_PORT" "$PEER_WORKERS"
  start_peer oidc-provider "$SINGLE_PEER_PORT" 1
}

# oidc-provider, NODE_ENV=production, with the given number of cluster workers (1: one plain process).
start_peer() { # name port workers
  URL[$1]="http://127.0.0.1:$2"
  (cd "$HERE" && NODE_ENV=production PEER_WORKERS=$3 exec nice -n "$BENCH_NICE" node oidc-provider-server.mjs 127.0.0.1 "$2") \
    >"$OUT/$1.log" 2>&1 &
  PID[$1]=$!
  wait_ready "$1" "${URL[$1]}/.well-known/openid-configuration" || die "$1 did not start, see $OUT/$1.log"
}

# --- runs -----------------------------------------------------------------------------------------------------
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, then $RUNS x ${DURATION}s each, alternating, one server loaded at a time, nice $BENCH_NICE"
start_servers
SERVERS=(tessera ceiling oidc-provider-cluster oidc-provider)
for server in "${SERVERS[@]}"; do
  check=$(node "$HERE/check-token.mjs" "${URL[$server]}" 2>&1) || die "token check failed: $check"
  say "$check"
done
for server in "${SERVERS[@]}"; do
  warm_up "$server" "$server"
done
for run in $(seq 1 "$RUNS"); do
  for server in "${SERVERS[@]}"; do
    measure "$run" "$server" "$server"
  done
done
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
report "Tessera $REVISION ($STORAGE) vs oidc-provider ($PEER_WORKERS cluster workers, and one process) and the ceiling, client_credentials, ES256 at+jwt; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, ${DURATION}s per measured run" \
  server Tessera tessera "oidc-provider cluster" oidc-provider-cluster
say "ratio Tessera/ceiling: $(median_ratio tessera ceiling)x (goal 0.8)"
say "ratio Tessera/oidc-provider single process: $(median_ratio tessera oidc-provider)x"
say "ratio ceiling/oidc-provider cluster: $(median_ratio ceiling oidc-provider-cluster)x"
verdict
