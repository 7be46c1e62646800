#!/usr/bin/env bash
# Refresh-token grants and authorization-code redemption, Tessera against oidc-provider in Node's cluster mode (one
# worker per core), side by side in one run. Three servers stay up for the whole run, one loaded at a time:
#   tessera-sqlite          Tessera on SQLite (tessera-grants.template.json)
#   tessera-postgres        the same build and configuration on PostgreSQL
#   oidc-provider-cluster   oidc-provider-grants-server.mjs: the same client, scopes, audience, ES256 JWT access tokens,
#                           lifetimes and rotation, its sessions, grants, codes and refresh tokens in PostgreSQL
#                           (oidc-provider-pg-adapter.mjs), which its workers must share
# PostgreSQL is a throwaway cluster of this run (.ci/postgres.sh, durable settings as deployed), one database for
# Tessera and one for the peer.
#
# Before any timer, each server signs in CONCURRENCY virtual clients for real (interop/bench/grant-seed.mjs): at Tessera
# brokered through its connection to an upstream oidc-provider (upstream-idp.mjs, the interop suite's), at the peer
# through its development login and consent. Each client keeps its own refresh token and session cookie. One more
# sign-in per server checks reuse detection: a rotated refresh token presented again is refused, and its successor too.
# Then grant-load.mjs loads each server, per workload:
#   refresh  POST /token grant_type=refresh_token, each client presenting the token its last refresh gave it (rotation
#            is real; a refusal breaks that client's chain and is an error). One unit is one request.
#   code     an SSO sign-in into the app: GET the authorization endpoint with the session cookie (PKCE, state, nonce),
#            which must redirect straight to the app with a code, then POST /token to redeem it. One unit is both.
# Per workload: a warm-up per server (its first unit checked in full), then RUNS runs of DURATION seconds taking the
# servers in turn. Prints a table per workload (units/s, p50 and p99 of one unit, errors, CPU of the server, of
# PostgreSQL, of the generator and of everything else, and the server's CPU per unit, PostgreSQL's included when it
# is the server's storage), each Tessera's ratio to the peer per run and the median of those ratios. Exits 1 if any
# run had an error.
#
#   bash bench/refresh.sh
#
# Settings (environment): RUNS=3 WARMUP=15 DURATION=12 CONCURRENCY=16 (virtual clients) TESSERA_PORT=5090 (SQLite)
#   TESSERA_PG_PORT=5094 PEER_PORT=5091 UPSTREAM_PORT=5096 APP_PORT=5099 (the app's redirect URI; nothing listens)
#   PG_PORT=56533 PG_DURABLE=1 (0: the test suites' fsync=off settings) PEER_WORKERS=$(nproc) PEER_POOL=10 (PostgreSQL
#   connections per peer worker) WORKLOADS="refresh code" SERVERS="tessera-sqlite oidc-provider-cluster tessera-postgres"
#   MIN_RATIO=<x> (also exit 3 when a median ratio is below x) TESSERA_REF BENCH_NICE (as in run.sh).
set -euo pipefail
WARMUP=${WARMUP:-15}
DURATION=${DURATION:-12}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TESSERA_PG_PORT=${TESSERA_PG_PORT:-5094}
PEER_PORT=${PEER_PORT:-5091}
UPSTREAM_PORT=${UPSTREAM_PORT:-5096}
REDIRECT_URI="http://127.0.0.1:${APP_PORT:-5099}/cb"
PG_PORT=${PG_PORT:-56533}
PG_DURABLE=${PG_DURABLE:-1}
PEER_WORKERS=${PEER_WORKERS:-$(nproc)}
read -r -a WORKLOADS <<<"${WORKLOADS:-refresh code}"
read -r -a SERVERS <<<"${SERVERS:-tessera-sqlite oidc-provider-cluster tessera-postgres}"
INTEROP="$ROOT/interop"
export BENCH_REDIRECT_URI=$REDIRECT_URI

# Which storage each server's data lives in (its CPU per unit includes PostgreSQL's when that is its storage), whose
# sign-in it has, and what a unit of each workload is called.
declare -A STORE=([tessera-sqlite]=sqlite [tessera-postgres]=postgres [oidc-provider-cluster]=postgres)
declare -A KIND=([tessera-sqlite]=tessera [tessera-postgres]=tessera [oidc-provider-cluster]=peer)
declare -A NOUN=([refresh]=refreshes [code]=signins) UNITS=([refresh]=refreshes [code]=sign-ins)
for server in "${SERVERS[@]}"; do [[ -n ${KIND[$server]:-} ]] || die "unknown server $server (tessera-sqlite, tessera-postgres, oidc-provider-cluster)"; done
for workload in "${WORKLOADS[@]}"; do [[ -n ${NOUN[$workload]:-} ]] || die "unknown workload $workload (refresh or code)"; done

prerequisites "$TESSERA_PORT" "$TESSERA_PG_PORT" "$PEER_PORT" "$UPSTREAM_PORT"
command -v psql >/dev/null || die "psql is missing: apt-get install postgresql"
if [[ ! -d $INTEROP/node_modules ]]; then
  say "npm ci in interop/ (the upstream IdP and openid-client for the sign-ins)"
  (cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm-interop.log" 2>&1 || die "npm ci failed, see $OUT/npm-interop.log"
fi
publish_tessera

# --- PostgreSQL: a cluster of this run's own (outside $TMP, which only root may enter), stopped at the end ------------
export TESSERA_CI_PGDATA="/tmp/tessera-bench-pg-$$" TESSERA_CI_PGPORT=$PG_PORT
if [[ $PG_DURABLE == 1 ]]; then export TESSERA_CI_PGDURABLE=1; fi
trap 'stop_servers; "$ROOT/.ci/postgres.sh" stop; rm -rf "$TESSERA_CI_PGDATA" "$TMP"' EXIT
say "PostgreSQL on port $PG_PORT ($([[ $PG_DURABLE == 1 ]] && echo durable settings || echo fsync off))"
"$ROOT/.ci/postgres.sh" start >/dev/null || die "PostgreSQL did not start"
psql "host=127.0.0.1 port=$PG_PORT user=postgres password=tessera-ci dbname=postgres" -q -c 'CREATE DATABASE tessera' -c 'CREATE DATABASE peer' \
  || die "creating the databases failed"
PG_PID=$(head -n 1 "$TESSERA_CI_PGDATA/postmaster.pid")

# --- configuration and servers ----------------------------------------------------------------------------------------
# Tessera's configuration for one server: the template with its port, storage and upstream client filled in.
configure_grants() { # name port provider connection-string
  DATABASE=$4 configure_tessera "$HERE/tessera-grants.template.json" "$TMP/$1.json" "$2"
  sed -i -e "s|\${STORAGE_PROVIDER}|$3|g" -e "s|\${REDIRECT_URI}|$REDIRECT_URI|g" -e "s|\${UPSTREAM_PORT}|$UPSTREAM_PORT|g" \
    -e "s|\${UPSTREAM_CLIENT}|tessera-${1#tessera-}|g" "$TMP/$1.json"
}
configure_grants tessera-sqlite "$TESSERA_PORT" Sqlite "Data Source=$TMP/tessera.db"
configure_grants tessera-postgres "$TESSERA_PG_PORT" Postgres \
  "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=tessera-ci;Database=tessera;Timeout=30;Command Timeout=60"
UPSTREAM_SECRET=$(dotnet "$PUB/tessera.dll" secret new)
export UPSTREAM_SECRET

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "settings: $CONCURRENCY virtual clients with keep-alive; per workload (${WORKLOADS[*]}) ${WARMUP}s warm-up per server, then $RUNS x ${DURATION}s each, alternating, one server loaded at a time; peer $PEER_WORKERS workers, $PEER_WORKERS x ${PEER_POOL:-10} PostgreSQL connections; nice $BENCH_NICE"
URL[upstream]="http://127.0.0.1:$UPSTREAM_PORT"
(cd "$HERE" && exec nice -n "$BENCH_NICE" node upstream-idp.mjs "$UPSTREAM_PORT" \
  "sqlite=http://127.0.0.1:$TESSERA_PORT/oidc/bench-oidc/callback" "postgres=http://127.0.0.1:$TESSERA_PG_PORT/oidc/bench-oidc/callback") \
  >"$OUT/upstream.log" 2>&1 &
PID[upstream]=$!
wait_ready upstream "${URL[upstream]}/.well-known/openid-configuration" || die "the upstream IdP did not start, see $OUT/upstream.log"
start_tessera tessera-sqlite "$TESSERA_PORT" "$TMP/tessera-sqlite.json"
start_tessera tessera-postgres "$TESSERA_PG_PORT" "$TMP/tessera-postgres.json"
URL[oidc-provider-cluster]="http://127.0.0.1:$PEER_PORT"
(cd "$HERE" && NODE_ENV=production PEER_WORKERS=$PEER_WORKERS BENCH_PEER_DATABASE="postgres://postgres:tessera-ci@127.0.0.1:$PG_PORT/peer" \
  exec nice -n "$BENCH_NICE" node oidc-provider-grants-server.mjs 127.0.0.1 "$PEER_PORT") >"$OUT/oidc-provider-cluster.log" 2>&1 &
PID[oidc-provider-cluster]=$!
wait_ready oidc-provider-cluster "${URL[oidc-provider-cluster]}/.well-known/openid-configuration" \
  || die "oidc-provider did not start, see $OUT/oidc-provider-cluster.log"

# --- sign-ins (not measured) ------------------------------------------------------------------------------------------
for server in "${SERVERS[@]}"; do
  seeded=$(cd "$INTEROP" && nice -n "$BENCH_NICE" node bench/grant-seed.mjs "${KIND[$server]}" "${URL[$server]}" "$CONCURRENCY" "$TMP/$server.state.json" 2>&1) \
    || die "signing in at $server failed: $(grep -v WARNING <<<"$seeded")"
  say "$server: $(grep '^seed' <<<"$seeded")"
done

# --- runs ---------------------------------------------------------------------------------------------------------------
# Loads server $1 with workload $2 for $3 seconds (label $4; "check" as $5 checks the first unit); sets RESULT, the CPU
# figures as run_wrk does plus CPU_DB (PostgreSQL, taken out of CPU_OTHER), SERVER_SECONDS and DB_SECONDS.
run_grants() { # server workload seconds label [check]
  local pid=${PID[$1]} s0 d0 m0 s1 d1 m1 t0 t1
  wait_quiet
  s0=$(proc_ticks "$pid"); d0=$(proc_ticks "$PG_PID"); m0=$(machine_busy_ticks); t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time env BENCH_STATE="$TMP/$1.state.json" BENCH_WORKLOAD="$2" nice -n "$BENCH_NICE" \
      node "$HERE/grant-load.mjs" "${URL[$1]}" "$3" "$CONCURRENCY" ${5:+"$5"} >"$OUT/$4.txt"; } 2>"$OUT/$4.time.txt" \
    || die "the load generator failed: $(grep -m1 '^grant-load' "$OUT/$4.time.txt") (see $OUT/$4.txt and $OUT/$4.time.txt)"
  t1=$(date +%s.%N); s1=$(proc_ticks "$pid"); d1=$(proc_ticks "$PG_PID"); m1=$(machine_busy_ticks)
  RESULT=$(grep '^BENCH_RESULT' "$OUT/$4.txt") || die "the load generator printed no result, see $OUT/$4.txt"
  cpu_shares "$((s1 - s0))" "$((m1 - m0))" "$t0" "$t1" "$OUT/$4.time.txt"
  read -r CPU_DB CPU_OTHER SERVER_SECONDS DB_SECONDS < <(awk -v d="$((d1 - d0))" -v s="$((s1 - s0))" -v o="$CPU_OTHER" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    'BEGIN { db = d / hz / (t1 - t0) * 100; other = o - db; if (other < 0) other = 0; printf "%.0f %.0f %.2f %.2f\n", db, other, s / hz, d / hz }')
  settle "$1"
}

for workload in "${WORKLOADS[@]}"; do
  for server in "${SERVERS[@]}"; do
    run_grants "$server" "$workload" "$WARMUP" "$workload-$server-warmup" check
    grep '^check' "$OUT/$workload-$server-warmup.txt" | while read -r line; do say "$server: $line"; done
    say "$workload $server warm-up: $(printf '%.0f' "$(field rps)") ${UNITS[$workload]}/s (discarded)"
    if [[ $(errors_of) -ne 0 ]]; then say "$workload $server warm-up had errors: $RESULT"; FAILED=1; fi
  done
  for run in $(seq 1 "$RUNS"); do
    for server in "${SERVERS[@]}"; do
      run_grants "$server" "$workload" "$DURATION" "$workload-$server-$run"
      errors=$(errors_of)
      [[ $errors -eq 0 ]] || FAILED=1
      ROWS+=("$workload $run $server $(field rps) $(field p50_us) $(field p99_us) $errors $CPU_SERVER $CPU_DB $CPU_WRK $CPU_OTHER $(field "${NOUN[$workload]}") $SERVER_SECONDS $DB_SECONDS ${STORE[$server]}")
      say "$workload $server-$run: $(printf '%.0f' "$(field rps)") ${UNITS[$workload]}/s, errors $errors, CPU server ${CPU_SERVER}% PostgreSQL ${CPU_DB}% generator ${CPU_WRK}% other ${CPU_OTHER}%"
    done
  done
done
stop_servers

# --- report -------------------------------------------------------------------------------------------------------------
printf '%s\n' "${ROWS[@]}" >"$OUT/runs.txt"
declare -A TITLE=(
  [refresh]="refresh_token grant with rotation (one POST /token per unit)"
  [code]="SSO sign-in into an app: /authorize with a live session, then the code redeemed at /token (two requests per unit)"
)
: >"$OUT/report.md"
RATIO=""
for workload in "${WORKLOADS[@]}"; do
  text=$(awk -v w="$workload" -v title="${TITLE[$workload]}" -v units="${UNITS[$workload]}" -v cores="$(nproc)" \
      -v peer=oidc-provider-cluster -v header="Tessera $REVISION vs oidc-provider ($PEER_WORKERS cluster workers, PostgreSQL), $CONCURRENCY virtual clients, ${WARMUP}s warm-up per server, ${DURATION}s per measured run" \
      "$MEDIAN_AWK"'
    $1 != w { next }
    !printed {
      printf "%s: %s\n\n", title, header
      printf "| run | server | %s/s | p50 ms | p99 ms | errors | CPU server | CPU PostgreSQL | CPU generator | CPU other | server CPU ms per unit |\n", units
      printf "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
      printed = 1
    }
    {
      per = $12 > 0 ? ($13 + ($15 == "postgres" ? $14 : 0)) * 1000 / $12 : 0
      printf "| %s | %s | %.0f | %.1f | %.1f | %d | %d%% | %d%% | %d%% | %d%% | %.2f |\n", $2, $3, $4, $5 / 1000, $6 / 1000, $7, $8, $9, $10, $11, per
      rate[$3, $2] = $4; runs[$2] = 1; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 }
      if ($11 > other) other = $11
    }
    END {
      if (!printed) exit
      printf "\nmedian %s/s:", units
      for (i = 1; i <= n; i++) { m = 0; delete list; for (r in runs) list[++m] = rate[order[i], r]; printf " %s %.0f%s", order[i], median(list, m), i < n ? "," : "\n" }
      for (i = 1; i <= n; i++) {
        if (order[i] == peer || !((peer, 1) in rate)) continue
        m = 0; delete list; line = ""
        for (r = 1; (r in runs); r++) { list[++m] = rate[order[i], r] / rate[peer, r]; line = line sprintf("%s%.2fx", m > 1 ? ", " : "", list[m]) }
        printf "ratio %s/%s per run: %s; median %.2fx\n", order[i], peer, line, median(list, m)
      }
      printf "(CPU in %% of one core; the machine has %d. Server CPU per unit includes PostgreSQL'\''s when it is the server'\''s storage. \"other\" is CPU used by processes outside the benchmark; highest %d%%.)\n", cores, other
    }' "$OUT/runs.txt")
  [[ -n $text ]] || continue
  echo
  echo "$text" | tee -a "$OUT/report.md"
  echo >>"$OUT/report.md"
  while read -r ratio; do
    if [[ -z $RATIO ]] || awk -v a="$ratio" -v b="$RATIO" 'BEGIN { exit !(a < b) }'; then RATIO=$ratio; fi
  done < <(sed -n 's/^ratio .*; median \([0-9.]*\)x$/\1/p' <<<"$text")
done
echo
# The upstream IdP counts what it was asked; every authorization request should be one of the seeding's sign-ins.
asked=$(sed -n 's/^upstream requests: .*"authorization":\([0-9]*\).*/\1/p' "$OUT/upstream.log")
seeded=0
for server in "${SERVERS[@]}"; do [[ ${KIND[$server]} == tessera ]] && seeded=$((seeded + CONCURRENCY + 1)); done
if [[ -n $asked && $asked -ne $seeded ]]; then
  say "warning: the upstream IdP saw $asked authorization requests, the seeding made $seeded: Tessera went upstream during the load"
else
  say "upstream IdP: ${asked:-?} authorization requests, all from the seeding's $seeded sign-ins (none during the load)"
fi
say "raw output in $OUT"
verdict
