#!/usr/bin/env bash
# Throughput of whole brokered sign-ins (authorize at Tessera, the upstream OpenID Connect IdP's login and consent, the
# callback, the code redeemed at /token) under a bounded load: SIGNIN_CONCURRENCY browsers, each signing in again as
# soon as its last sign-in ended. Publishes Tessera and runs interop/bench/signin-load.mjs on the interop suite's
# environment, with its oidc-provider upstream in an OS process of its own. Prints, per run, sign-ins/s, p50 and p99
# of a whole sign-in, and the CPU per sign-in of Tessera, of the upstream IdP and of the load generator apart (from
# /proc, around each measured window), the rest of the machine's CPU, and how many requests reach Tessera per sign-in.
# Exits 1 if any sign-in failed.
#
#   bash bench/signin-load.sh
#   PERF=1 bash bench/signin-load.sh     # then one more run under perf: where Tessera's CPU goes, per step of a sign-in
#   TRACE=1 bash bench/signin-load.sh    # then one more run under dotnet-trace: where its threads wait
#
# Settings (environment): SIGNIN_CONCURRENCY=8, WARMUP=60, DURATION=20, RUNS=3, IDLE=5 (seconds of Tessera idle after
#   the runs), FORWARDED_FOR=81.2.69.142 (empty for none), PERF=1 (apt-get install linux-perf; it also starts Tessera
#   with DOTNET_PerfMapEnabled=1, so compare the table of such a run with care), TRACE=1 (DOTNET_TRACE names
#   dotnet-trace, by default ~/.dotnet/tools/dotnet-trace), TESSERA_REF, BENCH_NICE as in run.sh. A smoke run:
#   WARMUP=5 DURATION=5 RUNS=1 bash bench/signin-load.sh
set -euo pipefail
WARMUP=${WARMUP:-60} # before lib.sh, whose default (30 s) is for wrk runs; a sign-in path keeps compiling for 40-60 s of load
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SIGNIN_CONCURRENCY=${SIGNIN_CONCURRENCY:-8}
IDLE=${IDLE:-5}
FORWARDED_FOR=${FORWARDED_FOR-81.2.69.142}
DOTNET_TRACE=${DOTNET_TRACE:-$HOME/.dotnet/tools/dotnet-trace}
INTEROP="$ROOT/interop"

for tool in node npm dotnet; do command -v "$tool" >/dev/null || die "$tool is missing"; done
TRACE_FILE="" PERF_FILE="" perf_env=()
if [[ ${TRACE:-0} == 1 ]]; then
  [[ -x $DOTNET_TRACE ]] || die "dotnet-trace is missing: dotnet tool install -g dotnet-trace (or DOTNET_TRACE=<path>)"
  TRACE_FILE="$OUT/tessera.nettrace"
fi
if [[ ${PERF:-0} == 1 ]]; then
  command -v perf >/dev/null || die "perf is missing: apt-get install linux-perf"
  PERF_FILE="$OUT/tessera.perf.data"
  # A perf map names JIT-compiled methods (in /tmp/perf-<pid>.map, which perf reads); W^X off keeps JIT code in
  # anonymous memory, where perf looks it up. The harness passes its environment on to Tessera.
  perf_env=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
  maps_before=$(ls /tmp/perf-*.map /tmp/perfinfo-*.map 2>/dev/null || true)
fi
if [[ ! -d $INTEROP/node_modules ]]; then
  say "npm ci in interop/ (oidc-provider, openid-client)"
  (cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || die "npm ci failed, see $OUT/npm.log"
fi
publish_tessera

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: $SIGNIN_CONCURRENCY browsers, ${WARMUP}s warm-up, then $RUNS x ${DURATION}s, X-Forwarded-For ${FORWARDED_FOR:-none}, nice $BENCH_NICE"
# The generator in the background as a server of this script, so that stop_servers ends it (and it its own servers)
# however this script ends; tee keeps the report. Its temporary files go under $TMP, which the script removes even when
# a signal left the generator no time to remove them itself.
(cd "$INTEROP" && exec env "${perf_env[@]}" TMPDIR="$TMP" TESSERA_DLL="$PUB/tessera.dll" SIGNIN_CONCURRENCY="$SIGNIN_CONCURRENCY" \
  WARMUP="$WARMUP" DURATION="$DURATION" RUNS="$RUNS" IDLE="$IDLE" FORWARDED_FOR="$FORWARDED_FOR" SIGNIN_TRACE="$TRACE_FILE" \
  SIGNIN_PERF="$PERF_FILE" DOTNET_TRACE="$DOTNET_TRACE" RESULTS="$OUT/signin-load.json" \
  nice -n "$BENCH_NICE" node bench/signin-load.mjs) > >(tee "$OUT/report.md") 2>&1 &
PID[generator]=$!
status=0
wait "${PID[generator]}" || status=$?
PID[generator]=""
if [[ -n $TRACE_FILE && -f $TRACE_FILE ]]; then
  # Inclusive: each frame's share of the samples with it anywhere on the stack. Samples include waiting threads,
  # so read the frames of request processing against each other, not against the total.
  "$DOTNET_TRACE" report "$TRACE_FILE" topN -n 60 --inclusive >"$OUT/trace-top-inclusive.txt" 2>&1 || true
  "$DOTNET_TRACE" report "$TRACE_FILE" topN -n 40 >"$OUT/trace-top-exclusive.txt" 2>&1 || true
  say "trace: $TRACE_FILE; top frames in $OUT/trace-top-inclusive.txt and trace-top-exclusive.txt"
fi
if [[ -n $PERF_FILE && -f $PERF_FILE ]]; then
  # Shares in ms with the perf run's own CPU per sign-in (it ran under perf, so a little above the measured runs').
  per_sign_in=$(node -e 'const r = require(process.argv[1]).profiled.find((p) => p.label === "perf"); console.log(r?.cpuMsPerSignIn.tessera ?? "")' \
    "$OUT/signin-load.json" 2>/dev/null || true)
  perf script -i "$PERF_FILE" -F comm,ip,sym,dso 2>/dev/null | python3 "$HERE/perf-signin.py" $per_sign_in | tee "$OUT/perf-signin.txt"
  # The perf maps this run's .NET processes left in /tmp, now that perf has read them.
  for map in $(ls /tmp/perf-*.map /tmp/perfinfo-*.map 2>/dev/null || true); do
    pid=${map##*-}; pid=${pid%.map}
    if ! grep -qxF "$map" <<<"$maps_before" && ! kill -0 "$pid" 2>/dev/null; then rm -f "$map"; fi
  done
fi
[[ $status -eq 0 ]] || die "the sign-in load run failed or was invalid (exit $status), see $OUT/report.md"
say "raw output in $OUT"
