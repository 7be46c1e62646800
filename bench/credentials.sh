#!/usr/bin/env bash
# OpenID4VCI credential issuance throughput: how many SD-JWT VCs one Tessera issues per second at the credential
# endpoint, each to a wallet that first fetches a fresh c_nonce and signs a proof of possession over it (the only
# way a wallet may ask). The load generator is credential-load.mjs (Node, jose, keep-alive, CONCURRENCY wallets);
# Tessera runs on SQLite with tessera-credentials.template.json (one organization provisioned over SCIM, the
# employee credential: org in the clear, four disclosable claims). A warm-up, then RUNS measured runs; each run
# makes its own user, offer and access token first (not measured). Prints a table (credentials/s, p50 and p99 of
# one issuance, nonce request included, errors, CPU of Tessera, of the generator and of everything else, and
# Tessera's CPU time per credential); exits 1 if any run had an error.
#
#   bash bench/credentials.sh
#
# Settings (environment): RUNS=3 WARMUP=20 DURATION=20 CONCURRENCY=16 TESSERA_PORT=5090 TESSERA_REF BENCH_NICE
#   (as in run.sh). The library figures (issuing and verifying without HTTP) are bench/Tessera.Credentials.Benchmarks.
set -euo pipefail
WARMUP=${WARMUP:-20}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONCURRENCY=${CONCURRENCY:-16}

prerequisites "$TESSERA_PORT"
publish_tessera
configure_tessera "$HERE/tessera-credentials.template.json"
BENCH_SCIM_TOKEN=$(dotnet "$PUB/tessera.dll" secret new)
export BENCH_SCIM_TOKEN

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: $CONCURRENCY concurrent wallets, ${WARMUP}s warm-up, then $RUNS x ${DURATION}s, nice $BENCH_NICE"
start_tessera

# Loads Tessera for $1 seconds with $CONCURRENCY wallets; sets RESULT and the CPU figures as run_wrk does.
run_wallets() { # seconds label [check]
  local pid=${PID[tessera]} s0 m0 s1 m1 t0 t1
  wait_quiet
  s0=$(proc_ticks "$pid"); m0=$(machine_busy_ticks); t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time nice -n "$BENCH_NICE" node "$HERE/credential-load.mjs" "${URL[tessera]}" "$1" "$CONCURRENCY" ${3:-} >"$OUT/$2.txt"; } 2>"$OUT/$2.time.txt" \
    || die "the load generator failed, see $OUT/$2.txt and $OUT/$2.time.txt"
  t1=$(date +%s.%N); s1=$(proc_ticks "$pid"); m1=$(machine_busy_ticks)
  RESULT=$(grep '^BENCH_RESULT' "$OUT/$2.txt") || die "the load generator printed no result, see $OUT/$2.txt"
  SERVER_SECONDS=$(awk -v s="$((s1 - s0))" -v hz="$HZ" 'BEGIN { printf "%.2f", s / hz }')
  read -r CPU_SERVER CPU_WRK CPU_OTHER < <(awk -v s="$((s1 - s0))" -v m="$((m1 - m0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    -v w="$(tail -n 1 "$OUT/$2.time.txt")" 'BEGIN { split(w, a, " "); wall = t1 - t0;
      srv = s / hz / wall * 100; gen = (a[1] + a[2]) / wall * 100; all = m / hz / wall * 100;
      other = all - srv - gen; if (other < 0) other = 0; printf "%.0f %.0f %.0f\n", srv, gen, other }')
  settle tessera
}

# --- runs -----------------------------------------------------------------------------------------------------
run_wallets "$WARMUP" warmup check
grep '^check' "$OUT/warmup.txt" | while read -r line; do say "$line"; done
say "warm-up: $(printf '%.0f' "$(field rps)") credentials/s (discarded)"
if [[ $(errors_of) -ne 0 ]]; then say "warm-up had errors: $RESULT"; FAILED=1; fi
for run in $(seq 1 "$RUNS"); do
  run_wallets "$DURATION" "credentials-$run"
  errors=$(errors_of)
  [[ $errors -eq 0 ]] || FAILED=1
  ROWS+=("$run $(field rps) $(field p50_us) $(field p99_us) $errors $CPU_SERVER $CPU_WRK $CPU_OTHER $(field credentials) $SERVER_SECONDS")
  say "run $run: $(printf '%.0f' "$(field rps)") credentials/s, errors $errors, CPU server ${CPU_SERVER}% generator ${CPU_WRK}% other ${CPU_OTHER}%"
done
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
printf '%s\n' "${ROWS[@]}" >"$OUT/runs.txt"
awk -v title="Tessera $REVISION, OpenID4VCI credential issuance (nonce + ES256 proof + SD-JWT VC, employee credential), $CONCURRENCY concurrent wallets with keep-alive, ${WARMUP}s warm-up, ${DURATION}s per measured run" \
  -v cores="$(nproc)" "$MEDIAN_AWK"'
  BEGIN {
    printf "%s\n\n", title
    printf "| run | credentials/s | p50 ms | p99 ms | errors | CPU server | CPU generator | CPU other | server CPU ms per credential |\n"
    printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
  }
  {
    per = $9 > 0 ? $10 * 1000 / $9 : 0
    printf "| %s | %.0f | %.1f | %.1f | %d | %d%% | %d%% | %d%% | %.2f |\n", $1, $2, $3 / 1000, $4 / 1000, $5, $6, $7, $8, per
    r[++n] = $2; if ($8 > other) other = $8
  }
  END {
    printf "\nmedian credentials/s: %.0f\n", median(r, n)
    printf "(CPU in %% of one core; the machine has %d. \"other\" is CPU used by processes outside the benchmark; highest %d%%.)\n", cores, other
  }' "$OUT/runs.txt" | tee "$OUT/report.md"
echo
say "raw output in $OUT"
verdict
