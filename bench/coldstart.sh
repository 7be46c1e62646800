#!/usr/bin/env bash
# Cold start: how long a fresh Tessera process takes to its first token and to steady-state throughput. The database
# exists already (made by a first start that is not measured), as for a node that an orchestrator restarts or adds.
# For each run: start `tessera serve`, ask for a client_credentials token every 20 ms until one is issued (time to the
# first token, from the moment the process was started), then load it at once with wrk for CURVE seconds, counting
# tokens in each second (the curve), then for STEADY seconds more (the steady state of this run). Steady state is
# reached at the first second after which every second of the curve is at least 90 % of it.
#
#   bash bench/coldstart.sh
#
# Settings (environment): RUNS=3 CURVE=30 STEADY=10 CONNECTIONS=32 THREADS=2 TESSERA_PORT=5090 TESSERA_REF=<git rev>
# TESSERA_ENV="VAR=value ..." (extra environment for the Tessera process, e.g. to compare runtime settings).
# PRIME=<seconds> (with PRIME_IDLE=1): after the first token, that many seconds of load on one connection, then
# PRIME_IDLE seconds of nothing, before the full load: does a node that served a trickle first ramp sooner?
# PROFILE=1: where the ramp's CPU goes. Under the curve's load, perf samples the node for 2 s of every 3, and the
# report gives per window the share of samples in the JIT compiler, in the rest of the runtime (its profiling helpers,
# stubs, the collector) and in code compiled with PGO instrumentation (the tier a hot method passes through before its
# final one). For perf to name compiled code the runtime writes a map of it (DOTNET_PerfMapEnabled=1) and runs it from
# plain anonymous memory (DOTNET_EnableWriteXorExecute=0); both change the timings a little.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CURVE=${CURVE:-30}
STEADY=${STEADY:-10}
read -r -a EXTRA_ENV <<<"${TESSERA_ENV:-}"
if [[ -n ${PROFILE:-} ]]; then
  command -v perf >/dev/null || die "perf is missing: apt-get install linux-perf"
  EXTRA_ENV+=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
fi

# perf in 2 s windows, one every 3 s, while the curve is loaded.
profile_windows() { # pid run
  local k
  for k in $(seq 1 $((CURVE / 3))); do
    kill -0 "$1" 2>/dev/null || return 0
    perf record -F 499 -p "$1" -o "$OUT/window-$2-$k.data" -- sleep 2 >/dev/null 2>&1 || return 0
    sleep 1
  done
}
window_shares() { # run offset (seconds from process start to the load)
  local k f
  for k in $(seq 1 $((CURVE / 3))); do
    f="$OUT/window-$1-$k.data"
    [[ -f $f ]] || continue
    perf script -i "$f" 2>/dev/null | awk -v offset="$2" -v k="$k" '
      BEGIN { from = int(offset + 3 * (k - 1) + 0.5) }
      { n++ } /libclrjit\.so/ { j++ } /libcoreclr\.so/ { r++ } /\[Instrumented/ { i++ }
      END { if (n) printf "  seconds %d-%d: %d samples, JIT compiler %.0f %%, runtime %.0f %%, instrumented code %.0f %%\n", from, from + 2, n, 100 * j / n, 100 * r / n, 100 * i / n }'
  done
}

prerequisites "$TESSERA_PORT"
publish_tessera
configure_tessera "$HERE/tessera.template.json"
say "first start, not measured: creates and migrates the database"
start_tessera
stop_servers

now() { date +%s.%N; }
SUMMARY=()
for run in $(seq 1 "$RUNS"); do
  wait_quiet
  URL[tessera]="http://127.0.0.1:$TESSERA_PORT"
  t0=$(now)
  (cd "$TMP" && exec env "${EXTRA_ENV[@]}" nice -n "$BENCH_NICE" dotnet "$PUB/tessera.dll" serve --config "$TMP/tessera.json" \
    --urls "${URL[tessera]}") >"$OUT/tessera-$run.log" 2>&1 &
  PID[tessera]=$!
  first=""
  for _ in $(seq 1 3000); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST -H "Authorization: $AUTH" \
      -d 'grant_type=client_credentials&scope=write:orders' "${URL[tessera]}/token" || true)
    if [[ $code == 200 ]]; then first=$(now); break; fi
    kill -0 "${PID[tessera]}" 2>/dev/null || die "Tessera did not start, see $OUT/tessera-$run.log"
    sleep 0.02
  done
  [[ -n $first ]] || die "no token within 60 s, see $OUT/tessera-$run.log"
  if [[ -n ${PRIME:-} ]]; then
    BENCH_AUTH="$AUTH" nice -n "$BENCH_NICE" wrk -t1 -c1 -d"${PRIME}s" -s "$HERE/wrk.lua" "${URL[tessera]}/token" >"$OUT/prime-$run.wrk.txt"
    sleep "${PRIME_IDLE:-1}"
  fi
  w0=$(now)
  profiler=""
  if [[ -n ${PROFILE:-} ]]; then profile_windows "${PID[tessera]}" "$run" & profiler=$!; fi
  BENCH_AUTH="$AUTH" BENCH_WRK_LUA="$HERE/wrk.lua" nice -n "$BENCH_NICE" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${CURVE}s" \
    --timeout 10s -s "$HERE/coldstart.lua" "${URL[tessera]}/token" >"$OUT/curve-$run.wrk.txt"
  run_wrk tessera "$STEADY" "steady-$run"
  [[ -z $profiler ]] || wait "$profiler"
  [[ -z ${PROFILE:-} ]] || window_shares "$run" "$(awk -v a="$w0" -v b="$t0" 'BEGIN { print a - b }')" >"$OUT/windows-$run.txt"
  steady=$(field rps)
  errors=$(grep '^BENCH_RESULT' "$OUT/curve-$run.wrk.txt" | sed -n 's/.* non2xx=\([0-9]*\).*/\1/p')
  # Full seconds only (the first and last buckets are partial), as seconds since the process was started.
  read -r line < <(awk -v t0="$t0" -v w0="$w0" -v first="$first" -v steady="$steady" -v run="$run" '
    /^BENCH_SECOND/ { s[++n] = $2; c[n] = $3 }
    END {
      curve = ""; at = -1
      for (i = 2; i < n; i++) curve = curve sprintf(" %d:%d", s[i] - t0 + 1, c[i])
      for (i = n - 1; i >= 2; i--) { if (c[i] < 0.9 * steady) break; at = i }
      reached = at < 0 ? "never" : sprintf("%.1f", s[at] - t0)
      printf "%d %.2f %.1f %.0f %s%s\n", run, first - t0, w0 - t0, steady, reached, curve
    }' "$OUT/curve-$run.wrk.txt")
  SUMMARY+=("$line")
  say "run $run: first token $(cut -d' ' -f2 <<<"$line") s, steady $(cut -d' ' -f4 <<<"$line") req/s reached at $(cut -d' ' -f5 <<<"$line") s, errors ${errors:-?}"
  [[ ${errors:-1} -eq 0 ]] || FAILED=1
  stop_servers
done

{
  echo "Cold start, Tessera $REVISION (SQLite), client_credentials; wrk -t$THREADS -c$CONNECTIONS from the first token on${PRIME:+ (after ${PRIME}s on one connection and ${PRIME_IDLE:-1}s idle)}${TESSERA_ENV:+; environment: $TESSERA_ENV}"
  echo
  echo "| run | first token s | steady req/s | steady reached at s |"
  echo "| --- | ---: | ---: | ---: |"
  for line in "${SUMMARY[@]}"; do read -r r f _ s at _ <<<"$line"; echo "| $r | $f | $s | $at |"; done
  echo
  echo "Tokens per second, by second since the process was started (second:tokens):"
  for line in "${SUMMARY[@]}"; do read -r r _ _ _ _ curve <<<"$line"; echo "- run $r:$curve"; done
  if [[ -n ${PROFILE:-} ]]; then
    echo
    echo "Where the CPU went under the load, by window (seconds since the process was started):"
    for run in $(seq 1 "$RUNS"); do echo "- run $run:"; cat "$OUT/windows-$run.txt"; done
  fi
} | tee "$OUT/report.md"
say "raw output in $OUT"
if [[ $FAILED -ne 0 ]]; then say "INVALID: at least one run had errors"; exit 1; fi
