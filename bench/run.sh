#!/usr/bin/env bash
# Peer comparison in one run: client_credentials token issuance (ES256 JWT access tokens) by Tessera and by
# oidc-provider, same load generator (wrk), same settings; both servers up, one loaded at a time, after a
# warm-up each, measured runs alternating A B A B.
# Prints a table and the ratio Tessera/oidc-provider; exits non-zero if any run had an error.
#
#   bash bench/run.sh
#
# Settings (environment): RUNS=3 WARMUP=30 DURATION=20 CONNECTIONS=32 THREADS=2
#   TESSERA_PORT=5090 PEER_PORT=5091
#   TESSERA_REF=<git rev>  build that revision (git archive) instead of the working tree
#   MIN_RATIO=<x>          also exit non-zero (3) when the median ratio is below x
#   BENCH_NICE=<n>         scheduling priority of this benchmark (default -10 as root, so other work on the
#                          machine disturbs the runs less; 0 to leave it alone). With Linux autogroups, nice only
#                          ranks processes within one session, so the script moves itself into a session of its
#                          own and sets that session's nice.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_PORT=${PEER_PORT:-5091}

prerequisites "$TESSERA_PORT" "$PEER_PORT"
publish_tessera
configure_tessera "$HERE/tessera.template.json"

# --- servers --------------------------------------------------------------------------------------------------
# Both servers are started once and stay up; only one is under load at a time.
start_servers() {
  start_tessera
  # oidc-provider: one Node process (its default), NODE_ENV=production.
  URL[oidc-provider]="http://127.0.0.1:$PEER_PORT"
  (cd "$HERE" && NODE_ENV=production exec nice -n "$BENCH_NICE" node oidc-provider-server.mjs 127.0.0.1 "$PEER_PORT") \
    >"$OUT/oidc-provider.log" 2>&1 &
  PID[oidc-provider]=$!
  wait_ready oidc-provider "${URL[oidc-provider]}/.well-known/openid-configuration" || die "oidc-provider did not start, see $OUT/oidc-provider.log"
}

# --- runs -----------------------------------------------------------------------------------------------------
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, then $RUNS x ${DURATION}s each, alternating, one server loaded at a time, nice $BENCH_NICE"
start_servers
for server in tessera oidc-provider; do
  check=$(node "$HERE/check-token.mjs" "${URL[$server]}" 2>&1) || die "token check failed: $check"
  say "$check"
done
for server in tessera oidc-provider; do
  warm_up "$server" "$server"
done
for run in $(seq 1 "$RUNS"); do
  for server in tessera oidc-provider; do
    measure "$run" "$server" "$server"
  done
done
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
report "Tessera $REVISION vs oidc-provider, client_credentials, ES256 at+jwt; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per server, ${DURATION}s per measured run" \
  server Tessera tessera oidc-provider oidc-provider
verdict
