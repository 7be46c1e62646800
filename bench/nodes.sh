#!/usr/bin/env bash
# One node against three, in one run, on one PostgreSQL: client_credentials token issuance (ES256 at+jwt) by one
# Tessera node, and by three nodes of the same build on the same database loaded at once (one wrk per node, the
# connections split between them, as a balancer would), each after a warm-up, measured runs alternating.
# While the three nodes are loaded, PostgreSQL's pg_stat_activity is sampled every 50 ms: how often an audit appender
# waited for the chain's advisory lock (every audit row of every node joins one hash chain, appended under that
# lock), and how many client connections the nodes held.
# On a 2-core machine the three nodes share the cores the one had, so this is not a scaling figure; it shows what
# several nodes on one database cost and whether the chain lock is where they queue.
# PostgreSQL runs with its durable defaults (fsync, synchronous_commit on), as a deployment would.
#
#   bash bench/nodes.sh
#
# Settings (environment): as run.sh (RUNS=3 WARMUP=30 DURATION=20 CONNECTIONS=32 THREADS=2 TESSERA_PORT=5090
#   TESSERA_REF BENCH_NICE), and NODE_PORTS="5094 5095" (the two other nodes), PG_PORT=56532.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
read -r -a OTHER_PORTS <<<"${NODE_PORTS:-5094 5095}"
PG_PORT=${PG_PORT:-56532}

prerequisites "$TESSERA_PORT" "${OTHER_PORTS[@]}"
publish_tessera
start_postgres "$PG_PORT"
# Every node has the same issuer (the first node's URL): they are one deployment.
configure_tessera "$HERE/tessera-postgres.template.json"

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: wrk -t$THREADS -c$CONNECTIONS against one node; three wrk -t1 -c$((CONNECTIONS / 3)) against three nodes at once; ${WARMUP}s warm-up each way, then $RUNS x ${DURATION}s each, alternating, nice $BENCH_NICE"
start_tessera node1 "$TESSERA_PORT" "$TMP/tessera.json" # applies the migrations and creates the keys
NODES=(node1)
for i in "${!OTHER_PORTS[@]}"; do
  start_tessera "node$((i + 2))" "${OTHER_PORTS[$i]}" "$TMP/tessera.json"
  NODES+=("node$((i + 2))")
done
for node in "${NODES[@]}"; do
  check=$(node "$HERE/check-token.mjs" "${URL[$node]}" 2>&1) || die "token check failed ($node): $check"
  say "$node: $check"
done

# Loads every node at once for $1 seconds, one wrk each with a third of the connections; sets RESULT to the summed
# figures (req/s summed, p50 the mean, p99 the highest) and CPU_SERVER to the three nodes' CPU together.
run_all_nodes() { # seconds label
  local node pids=() s0=0 s1=0 m0 m1 t0 t1 share=$((CONNECTIONS / ${#NODES[@]}))
  wait_quiet
  for node in "${NODES[@]}"; do s0=$((s0 + $(proc_ticks "${PID[$node]}"))); done
  m0=$(machine_busy_ticks); t0=$(date +%s.%N)
  psql "$PSQL" -At -F ' ' >"$OUT/$2.pg.txt" 2>/dev/null <<<"SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'), count(*) FILTER (WHERE backend_type = 'client backend') FROM pg_stat_activity \watch 0.05" &
  local sampler=$!
  for node in "${NODES[@]}"; do
    BENCH_AUTH="$AUTH" nice -n "$BENCH_NICE" wrk -t1 -c"$share" -d"${1}s" --latency --timeout 10s -s "$HERE/wrk.lua" \
      "${URL[$node]}/token" >"$OUT/$2.$node.wrk.txt" &
    pids+=($!)
  done
  wait "${pids[@]}"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  t1=$(date +%s.%N); m1=$(machine_busy_ticks)
  for node in "${NODES[@]}"; do s1=$((s1 + $(proc_ticks "${PID[$node]}"))); done
  RESULT=$(cat "$OUT/$2".node*.wrk.txt | awk '/^BENCH_RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2]; if (kv[1] == "p99_us" && kv[2] > p99) p99 = kv[2] }
      n++ }
    END { printf "BENCH_RESULT rps=%f p50_us=%f p99_us=%f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      v["rps"], v["p50_us"] / n, p99, v["non2xx"], v["connect"], v["read"], v["write"], v["timeout"] }')
  CPU_SERVER=$(awk -v s="$((s1 - s0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", s / hz / (t1 - t0) * 100 }')
  CPU_OTHER=$(awk -v m="$((m1 - m0))" -v s="$((s1 - s0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { o = (m - s) / hz / (t1 - t0) * 100; printf "%.0f", o < 0 ? 0 : o }')
  for node in "${NODES[@]}"; do settle "$node"; done
}

# Summary of one run's pg_stat_activity samples: share of samples with an appender waiting for the chain lock, the
# mean number waiting, and the most client connections seen.
lock_summary() { # label
  awk 'NF == 2 && $1 ~ /^[0-9]+$/ { n++; if ($1 > 0) waiting++; total += $1; if ($2 > most) most = $2 }
    END { if (n == 0) { print "no samples"; exit } printf "%d samples; chain lock waited for in %.1f%% of them (mean %.2f waiting); at most %d client connections\n", n, waiting * 100 / n, total / n, most }' "$OUT/$1.pg.txt"
}

warm_up node1 "1-node"
run_all_nodes "$WARMUP" "3-nodes-warmup"
say "3-nodes warm-up: $(printf '%.0f' "$(field rps)") req/s (discarded)"
for run in $(seq 1 "$RUNS"); do
  measure "$run" node1 "1-node"
  run_all_nodes "$DURATION" "3-nodes-$run"
  errors=$(errors_of)
  [[ $errors -eq 0 ]] || FAILED=1
  ROWS+=("$run 3-nodes $(field rps) $(field p50_us) $(field p99_us) $errors $CPU_SERVER 0 $CPU_OTHER")
  say "3-nodes-$run: $(printf '%.0f' "$(field rps)") req/s, errors $errors, CPU nodes ${CPU_SERVER}% other ${CPU_OTHER}% (wrk counted in other); $(lock_summary "3-nodes-$run")"
done
stop_servers

# --- report ---------------------------------------------------------------------------------------------------
report "Tessera $REVISION on PostgreSQL (durable), client_credentials (ES256 at+jwt): one node vs three nodes of one database loaded at once; ${WARMUP}s warm-up each way, ${DURATION}s per measured run" \
  nodes "3 nodes" 3-nodes "1 node" 1-node
for run in $(seq 1 "$RUNS"); do say "3-nodes-$run PostgreSQL samples: $(lock_summary "3-nodes-$run")"; done
verdict
