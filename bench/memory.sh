#!/usr/bin/env bash
# Resident memory of one Tessera node, idle and under full load, on SQLite and on PostgreSQL. For each storage and
# each of RUNS runs: start `tessera serve` (the database exists: a first start, not measured, makes it), ask for one
# client_credentials token, wait IDLE seconds and sample (idle); then load /token with wrk for DURATION seconds,
# sampling every second (the highest sample is "under load"), and sample once more IDLE seconds after the load.
# Each sample splits the resident set (/proc/<pid>/smaps) into pages of files (assemblies and native libraries,
# shared with other processes that map them and reclaimable by the kernel), compiled code (the runtime's
# `memfd:doublemapper`, mapped twice: writable and executable) and anonymous memory (GC heap, native heap, stacks).
#
#   bash bench/memory.sh
#
# Settings (environment): RUNS=3 IDLE=5 DURATION=20 CONNECTIONS=32 THREADS=2 TESSERA_PORT=5090 PG_PORT=56532
#   STORAGES="sqlite postgres" TESSERA_REF TESSERA_ENV="VAR=value ..." (extra environment for Tessera) BENCH_NICE.
# Goals (the performance issue): idle under 150 MB, under load under 300 MB.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IDLE=${IDLE:-5}
PG_PORT=${PG_PORT:-56532}
read -r -a STORAGE_LIST <<<"${STORAGES:-sqlite postgres}"
read -r -a EXTRA_ENV <<<"${TESSERA_ENV:-}"

prerequisites "$TESSERA_PORT"
publish_tessera

# "rss files code anonymous" in MB for a process.
sample() { # pid
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { kind = "anonymous"; if ($6 ~ /doublemapper/) kind = "code"; else if ($6 ~ /^\//) kind = "files" }
    /^Rss:/ { mb[kind] += $2 / 1024; all += $2 / 1024 }
    END { printf "%.0f %.0f %.0f %.0f\n", all, mb["files"], mb["code"], mb["anonymous"] }' "/proc/$1/smaps"
}

LINES=()
for storage in "${STORAGE_LIST[@]}"; do
  case $storage in
    sqlite) configure_tessera "$HERE/tessera.template.json" ;;
    postgres) [[ -n ${DATABASE:-} ]] || start_postgres "$PG_PORT"; configure_tessera "$HERE/tessera-postgres.template.json" ;;
    *) die "STORAGES lists sqlite and postgres, not $storage" ;;
  esac
  say "$storage: first start, not measured: creates and migrates the database"
  start_tessera
  stop_servers
  for run in $(seq 1 "$RUNS"); do
    wait_quiet
    start_tessera tessera "$TESSERA_PORT" "$TMP/tessera.json" "${EXTRA_ENV[@]}"
    pid=${PID[tessera]}
    curl -sf -o /dev/null -X POST -H "Authorization: $AUTH" -d 'grant_type=client_credentials&scope=write:orders' \
      "${URL[tessera]}/token" || die "no token, see $OUT/tessera.log"
    sleep "$IDLE"
    idle=$(sample "$pid")
    BENCH_AUTH="$AUTH" nice -n "$BENCH_NICE" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
      -s "$HERE/wrk.lua" "${URL[tessera]}/token" >"$OUT/$storage-$run.wrk.txt" &
    load=$!
    peak="0 0 0 0"
    while kill -0 "$load" 2>/dev/null; do
      now=$(sample "$pid")
      [[ ${now%% *} -le ${peak%% *} ]] || peak=$now
      sleep 1
    done
    wait "$load"
    RESULT=$(grep '^BENCH_RESULT' "$OUT/$storage-$run.wrk.txt") || die "wrk printed no result, see $OUT/$storage-$run.wrk.txt"
    [[ $(errors_of) -eq 0 ]] || { say "errors under load: $RESULT"; FAILED=1; }
    sleep "$IDLE"
    after=$(sample "$pid")
    LINES+=("$storage $run $idle $peak $after")
    say "$storage run $run: idle ${idle%% *} MB, under load ${peak%% *} MB, after ${after%% *} MB"
    stop_servers
  done
done

{
  echo "Resident memory, Tessera $REVISION, one node; idle ${IDLE}s after its first token, the highest 1 s sample under wrk -t$THREADS -c$CONNECTIONS for ${DURATION}s, and ${IDLE}s after the load${TESSERA_ENV:+; environment: $TESSERA_ENV}"
  echo
  echo "| storage | run | idle MB (files / code / anonymous) | under load MB (files / code / anonymous) | after MB |"
  echo "| --- | ---: | --- | --- | ---: |"
  for line in "${LINES[@]}"; do
    read -r s r i if ic ia p pf pc pa a _ <<<"$line"
    echo "| $s | $r | $i ($if / $ic / $ia) | $p ($pf / $pc / $pa) | $a |"
  done
} | tee "$OUT/report.md"
say "raw output in $OUT"
if [[ $FAILED -ne 0 ]]; then say "INVALID: a load had errors"; exit 1; fi
