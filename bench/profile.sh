#!/usr/bin/env bash
# Where Tessera spends its time under the benchmark's load: one Tessera process, wrk with the same settings as
# run.sh, consecutive 5 s slices of /token (warm-up curve), then /healthz (HTTP stack only: no crypto, no
# database). Per slice: req/s, Tessera CPU, CPU microseconds and bytes written to disk per request, audit rows
# added. With PERF=1 and `perf` installed (Debian: linux-perf), also samples 10 s of steady-state /token load
# and prints the inclusive share of the main stages.
#
#   bash bench/profile.sh            # uses the Tessera published by `dotnet publish -c Release`
#   PERF=1 bash bench/profile.sh
#
# Settings (environment): SLICES=8 SLICE=5 CONNECTIONS=32 THREADS=2 PORT=5095 PUB=<published dir>
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SLICES=${SLICES:-8}
SLICE=${SLICE:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-5095}
TMP=$(mktemp -d /tmp/tessera-profile.XXXXXX)
P=""
cleanup() {
  if [[ -n $P ]]; then kill -TERM "$P" 2>/dev/null || true; wait "$P" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
[[ $EUID -ne 0 || ! -w /proc/self/autogroup ]] || echo -10 >/proc/self/autogroup
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install sqlite3" >&2; exit 1; }

PUB=${PUB:-}
if [[ -z $PUB ]]; then
  PUB="$TMP/tessera"
  dotnet publish "$ROOT/src/Tessera" -c Release -o "$PUB" --nologo >"$TMP/publish.log" 2>&1 || { cat "$TMP/publish.log"; exit 1; }
fi

export TESSERA_KEK BENCH_SECRET
TESSERA_KEK=$(dotnet "$PUB/tessera.dll" secret new --kind kek)
BENCH_SECRET=$(dotnet "$PUB/tessera.dll" secret new)
sed -e "s|\${TESSERA_PORT}|$PORT|g" -e "s|\${BENCH_TMP}|$TMP|g" "$HERE/tessera.template.json" >"$TMP/tessera.json"
perf_env=()
if [[ ${PERF:-0} == 1 ]]; then
  # A perf map names JIT-compiled methods; W^X off keeps JIT code in anonymous memory, where perf looks it up.
  perf_env=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
fi
(cd "$TMP" && exec env "${perf_env[@]}" dotnet "$PUB/tessera.dll" serve --config "$TMP/tessera.json" \
  --urls "http://127.0.0.1:$PORT") >"$TMP/tessera.log" 2>&1 &
P=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
AUTH="Basic $(printf 'bench-client:%s' "$BENCH_SECRET" | base64 -w0)"
HZ=$(getconf CLK_TCK)
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$P/stat"; }
written() { awk '/^write_bytes/ { print $2 }' "/proc/$P/io"; }
audit_rows() { sqlite3 "$TMP/bench.db" 'select count(*) from audit_events'; }
token_rows() { sqlite3 "$TMP/bench.db" 'select count(*) from OpenIddictTokens'; }

load() { # path seconds
  if [[ $1 == /token ]]; then
    BENCH_AUTH="$AUTH" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" -s "$HERE/wrk.lua" "http://127.0.0.1:$PORT$1"
  else
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" -s "$HERE/wrk.lua" "http://127.0.0.1:$PORT$1"
  fi | grep '^BENCH_RESULT'
}

slice() { # path
  local s0 w0 a0 r n s1 w1 a1 s2
  s0=$(ticks); w0=$(written); a0=$(audit_rows)
  r=$(load "$1" "$SLICE")
  s1=$(ticks); w1=$(written); sleep 1; a1=$(audit_rows); s2=$(ticks)
  n=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$r")
  printf '%-9s %7.0f %6s %8d %9d %10d %9d %11d%%\n' "$1" "$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$r")" \
    "$(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$r")" $(( (s1 - s0) * 100 / HZ / SLICE )) \
    $(( (s1 - s0) * 1000000 / HZ / (n + 1) )) $(( (w1 - w0) / (n + 1) )) $((a1 - a0)) $(( (s2 - s1) * 100 / HZ ))
}

echo "Tessera $(git -C "$ROOT" describe --always --dirty), wrk -t$THREADS -c$CONNECTIONS, ${SLICE}s slices"
printf '%-9s %7s %6s %8s %9s %10s %9s %12s\n' path 'req/s' non2xx 'CPU %' 'CPU us/req' 'disk B/req' 'audit +' 'CPU next 1s'
for _ in $(seq 1 "$SLICES"); do slice /token; done
slice /healthz
slice /healthz
echo "token rows stored: $(token_rows); audit rows: $(audit_rows)"

if [[ ${PERF:-0} == 1 ]]; then
  command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 1; }
  load /token 14 >/dev/null &
  sleep 2
  perf record -F 999 -g -p "$P" -o "$TMP/perf.data" -- sleep 10 >/dev/null 2>&1
  wait $!
  perf script -i "$TMP/perf.data" -F ip,sym,dso 2>/dev/null | python3 "$HERE/perf-stages.py"
fi
