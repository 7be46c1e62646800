#!/usr/bin/env bash
# RFC 8693 token exchange against client_credentials, on the same Tessera in one run: a foreign RS256-signed JWT
# subject token in, an ES256 at+jwt access token out, against a plain client_credentials token. Same load
# generator (wrk) and settings as run.sh; a warm-up of each request type, then measured runs alternating
# client_credentials, exchange, client_credentials, …
# Prints a table and the ratio exchange/client_credentials; exits 1 if any run had an error, 3 if the ratio is
# below MIN_RATIO.
#
#   bash bench/exchange.sh
#
# Settings (environment): as run.sh (RUNS=3 WARMUP=30 DURATION=20 CONNECTIONS=32 THREADS=2 TESSERA_PORT=5090
#   TESSERA_REF BENCH_NICE), and
#   MIN_RATIO=0.5   exit 3 when the median ratio exchange/client_credentials is below it (empty: no minimum)
#   JWKS_PORT=5092  where the foreign issuer serves its key set
#   SUBJECTS=100    how many subject tokens (each for another partner user) wrk cycles through
#   EXCHANGE_PARAMS=""  appended to every exchange request, form-encoded: "&audience=https%3A%2F%2Forders.internal"
#                   or "&resource=https%3A%2F%2Forders.internal" names the policy's audience as RFC 8693 clients do
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MIN_RATIO=${MIN_RATIO-0.5}
JWKS_PORT=${JWKS_PORT:-5092}
SUBJECTS=${SUBJECTS:-100}
TOKENS="$TMP/subject-tokens.txt"

prerequisites "$TESSERA_PORT" "$JWKS_PORT"
publish_tessera
configure_tessera "$HERE/tessera-exchange.template.json"

# --- servers --------------------------------------------------------------------------------------------------
# The foreign issuer (its key set, and the subject tokens it signed), then Tessera, which trusts it.
URL[partner-issuer]="http://127.0.0.1:$JWKS_PORT"
(cd "$HERE" && exec nice -n "$BENCH_NICE" node partner-issuer.mjs 127.0.0.1 "$JWKS_PORT" "$TOKENS" "$SUBJECTS") \
  >"$OUT/partner-issuer.log" 2>&1 &
PID[partner-issuer]=$!
wait_ready partner-issuer "${URL[partner-issuer]}/healthz" || die "the partner issuer did not start, see $OUT/partner-issuer.log"
jwks_requests() { curl -sf --max-time 5 "${URL[partner-issuer]}/stats" | sed -n 's/.*"jwks_requests":\([0-9]*\).*/\1/p'; }

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per request type, then $RUNS x ${DURATION}s each, alternating, $SUBJECTS subject tokens cycled, nice $BENCH_NICE"
start_tessera

# --- runs -----------------------------------------------------------------------------------------------------
check=$(node "$HERE/check-token.mjs" "${URL[tessera]}" 2>&1) || die "client_credentials check failed: $check"
say "$check"
export BENCH_EXCHANGE_PARAMS=${EXCHANGE_PARAMS:-}
check=$(node "$HERE/check-token.mjs" "${URL[tessera]}" "$TOKENS" 2>&1) || die "token exchange check failed: $check"
say "$check"

# Each request type's wrk environment beyond BENCH_AUTH.
declare -A LOAD=([client_credentials]="" [exchange]="BENCH_SUBJECT_TOKENS=$TOKENS")
# The exchange warm-up also makes the users of all subject tokens, so the measured runs only find links.
for kind in client_credentials exchange; do
  warm_up tessera "$kind" ${LOAD[$kind]}
done
for run in $(seq 1 "$RUNS"); do
  for kind in client_credentials exchange; do
    measure "$run" tessera "$kind" ${LOAD[$kind]}
  done
done
JWKS_REQUESTS=$(jwks_requests) || JWKS_REQUESTS=unknown
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
report "Tessera $REVISION, token exchange (RS256 JWT subject token in, ES256 at+jwt out; $SUBJECTS subjects${EXCHANGE_PARAMS:+; $EXCHANGE_PARAMS}) vs client_credentials (ES256 at+jwt); wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up per request type, ${DURATION}s per measured run" \
  request exchange exchange client_credentials client_credentials
echo "the partner issuer's key set (JWKS) was fetched $JWKS_REQUESTS time(s) in the whole run" | tee -a "$OUT/report.md"
verdict
