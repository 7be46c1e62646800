#!/usr/bin/env bash
# SCIM list requests over HTTP against `tessera serve` on the SQLite directory of 100,000 users that
# bench/scim-list.sh leaves behind (its newest bench/results/scim-list-*/scim.db): each filter 5 times to warm up, then
# 50 times, each for another user, with curl; prints median and p95 ms of the whole request (query, rendering of a
# page of 100 users, HTTP on loopback). Run bench/scim-list.sh first.
#   bash bench/scim-http.sh [path/to/scim.db]
set -euo pipefail
cd "$(dirname "$0")/.."
DB="${1:-$(ls -d bench/results/scim-list-*/scim.db 2>/dev/null | tail -n 1)}"
[ -f "$DB" ] || { echo "no scim.db: run bench/scim-list.sh first" >&2; exit 1; }
DB=$(realpath "$DB")
PORT=${TESSERA_PORT:-5095}
# Tessera's signing keys are stored encrypted under the key-encryption key: keep that key next to the database.
[ -f "$DB.kek" ] || head -c 32 /dev/urandom | base64 >"$DB.kek"
TOKEN="bench-scim-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
WORK=$(mktemp -d)
trap '[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

dotnet publish src/Tessera -c Release -o "$WORK/tessera" >"$WORK/publish.log" 2>&1 || { tail -n 20 "$WORK/publish.log"; exit 1; }
cat >"$WORK/tessera.json" <<JSON
{ "Tessera": {
  "Issuer": "http://127.0.0.1:$PORT",
  "Storage": { "Provider": "Sqlite", "ConnectionString": "Data Source=$DB" },
  "Keys": { "EncryptionKey": "$(cat "$DB.kek")" },
  "Organizations": [ { "Id": "bench-org", "Domains": ["example.com"], "Scim": { "Tokens": ["$TOKEN"] } } ]
} }
JSON
(cd "$WORK/tessera" && exec dotnet tessera.dll serve --config "$WORK/tessera.json" --urls "http://127.0.0.1:$PORT") >"$WORK/tessera.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "Tessera did not start:" >&2; tail -n 20 "$WORK/tessera.log" >&2; exit 1; }

# Users to look up: userName and externalId of 55 random provisioned users.
mapfile -t PEOPLE < <(python3 - "$DB" <<'PY'
import sqlite3, sys
for name, ext in sqlite3.connect(sys.argv[1]).execute("select UserName, ExternalId from directory_users order by random() limit 55"):
    print(f"{name} {ext}")
PY
)

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
query() { # kind userName externalId
  case "$1" in
    userName) echo "filter=$(enc "userName eq \"$2\"")" ;;
    externalId) echo "filter=$(enc "externalId eq \"$3\"")" ;;
    emails) echo "filter=$(enc "emails[type eq \"work\" and value eq \"$2\"]")" ;;
    prefix) echo "filter=$(enc "userName sw \"${2:0:5}\"")" ;;
    active) echo "filter=$(enc "active eq true")" ;;
    all) echo "" ;;
  esac
}

echo "| filter (HTTP, pages of 100) | median ms | p95 ms |"
echo "| --- | ---: | ---: |"
for kind in userName externalId emails prefix active all; do
  times=()
  for i in $(seq 0 54); do
    read -r name ext <<<"${PEOPLE[$i]}"
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/scim/v2/bench-org/Users?$(query "$kind" "$name" "$ext")")
    [ "${t%% *}" = 200 ] || { echo "$kind: HTTP ${t%% *}, see $WORK/tessera.log" >&2; tail -n 5 "$WORK/tessera.log" >&2; exit 1; }
    [ "$i" -ge 5 ] && times+=("${t#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v k="$kind" '{ v[NR] = $1 * 1000 } END { printf "| %s | %.1f | %.1f |\n", k, (v[25] + v[26]) / 2, v[int(NR * 0.95)] }'
done
