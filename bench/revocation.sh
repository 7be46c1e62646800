#!/usr/bin/env bash
# Revocation end to end on loopback: a live `tessera serve`, the sample orders API (samples/OrdersApi on
# Tessera.Validation, trusting a validated token for an hour) and two applications with back-channel logout
# endpoints. Runs interop area 13 alone: twenty times a user signs in to both apps, both call the API, the user is
# deactivated over SCIM, and the time from the SCIM 200 until the API answers 401 is taken. Prints the timings as JSON.
set -euo pipefail
cd "$(dirname "$0")/../interop"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
results="${1:-$(mktemp --suffix=.json)}"
TESSERA_REVOCATION_RESULTS="$results" node --test --test-concurrency=1 --test-name-pattern='a user signed in to two apps' test/ \
  | grep -E '# (SCIM 200|pass [0-9]|fail [0-9])|not ok' || true
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(JSON.stringify({ runs: r.runs, medianMs: r.medianMs, p95Ms: r.p95Ms, minMs: r.minMs, maxMs: r.maxMs, logoutMedianMs: r.logoutMedianMs }));
' "$results"
