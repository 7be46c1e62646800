# Shared by run.sh, exchange.sh, revisions.sh, anomalies.sh, signin-latency.sh, credentials.sh, presentations.sh and
# the others here, which source it right after `set -euo pipefail`: scheduling priority, the settings every run shares,
# Tessera's build and start, wrk and wallet load runs with CPU accounting, the report and exit code.
#
# The settings (environment) it reads are described at the top of run.sh: RUNS WARMUP DURATION CONNECTIONS
# THREADS TESSERA_PORT TESSERA_REF MIN_RATIO BENCH_NICE. Sourcing it moves the calling script into a scheduler
# session of its own when BENCH_NICE asks for it (re-running it there), and creates $OUT and $TMP.

if [[ $EUID -eq 0 ]]; then BENCH_NICE=${BENCH_NICE:--10}; else BENCH_NICE=${BENCH_NICE:-0}; fi
export BENCH_NICE
if [[ $BENCH_NICE != 0 && -z ${BENCH_SESSION:-} && $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null) == 1 ]]; then
  BENCH_SESSION=1 setsid bash "$0" "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT TERM
  wait "$child"
  exit $?
fi
[[ $BENCH_NICE == 0 || ! -w /proc/self/autogroup ]] || echo "$BENCH_NICE" >/proc/self/autogroup

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-30}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
TESSERA_PORT=${TESSERA_PORT:-5090}

OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"
TMP=$(mktemp -d /tmp/tessera-bench.XXXXXX)
mkdir -p "$OUT"
started=$SECONDS

say() { printf '[%3ds] %s\n' $((SECONDS - started)) "$*"; }
die() { say "error: $*" >&2; exit 1; }

# Servers by name: PID (empty once stopped) and base URL.
declare -A PID=() URL=()
stop_servers() {
  local name pid
  for name in "${!PID[@]}"; do
    pid=${PID[$name]:-}
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PID[$name]=""
  done
}
cleanup() { stop_servers; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites, build, configuration --------------------------------------------------------------------
prerequisites() { # ports that must be free
  if ! command -v wrk >/dev/null; then
    [[ $EUID -eq 0 ]] || die "wrk is missing: apt-get install wrk"
    say "installing wrk (Debian package)"
    (apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }) >"$OUT/apt.log" 2>&1
  fi
  local tool port
  for tool in node npm dotnet curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done
  for port in "$@"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then die "port $port is already in use"; fi
  done
  say "npm ci (oidc-provider, jose)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || die "npm ci failed, see $OUT/npm.log"
}

# Sets REVISION and PUB (the published Tessera).
publish_tessera() {
  local src="$ROOT" attempt
  REVISION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
  if [[ -n ${TESSERA_REF:-} ]]; then
    mkdir -p "$TMP/src"
    git -C "$ROOT" archive "$TESSERA_REF" | tar -x -C "$TMP/src"
    src="$TMP/src"
    REVISION=$(git -C "$ROOT" rev-parse --short "$TESSERA_REF")
  fi
  say "dotnet publish -c Release ($REVISION)"
  PUB="$TMP/tessera"
  for attempt in 1 2 3; do
    # A concurrent build of the same project can hold a file lock; try again shortly.
    if dotnet publish "$src/src/Tessera" -c Release -o "$PUB" --nologo >"$OUT/publish.log" 2>&1; then break; fi
    [[ $attempt -lt 3 ]] || die "dotnet publish failed 3 times, see $OUT/publish.log"
    say "publish failed (attempt $attempt), retrying in 15 s"; sleep 15
  done
}

# Fresh secrets (TESSERA_KEK, BENCH_SECRET, AUTH for wrk), made once per run, and a configuration from a template,
# whose ${TESSERA_PORT}, ${BENCH_TMP}, ${JWKS_PORT}, ${GEO_DATABASE} and ${DATABASE} are filled in: $TMP/tessera.json for
# TESSERA_PORT, or the file and port given (a second Tessera of the same run, which shares the secrets).
SECRETS_MADE=""
configure_tessera() { # template [config port]
  local config=${2:-$TMP/tessera.json} port=${3:-$TESSERA_PORT}
  export TESSERA_KEK BENCH_SECRET
  if [[ -z $SECRETS_MADE ]]; then
    TESSERA_KEK=$(dotnet "$PUB/tessera.dll" secret new --kind kek)
    BENCH_SECRET=$(dotnet "$PUB/tessera.dll" secret new)
    AUTH="Basic $(printf 'bench-client:%s' "$BENCH_SECRET" | base64 -w0)"
    SECRETS_MADE=1
  fi
  sed -e "s|\${TESSERA_PORT}|$port|g" -e "s|\${BENCH_TMP}|$TMP|g" -e "s|\${JWKS_PORT}|${JWKS_PORT:-}|g" \
    -e "s|\${GEO_DATABASE}|${GEO_DATABASE:-}|g" -e "s|\${DATABASE}|${DATABASE:-}|g" "$1" >"$config"
}

# PostgreSQL for this run: a cluster of its own (outside $TMP, which only root may enter) with PostgreSQL's durable
# defaults (fsync, synchronous_commit on), as a deployment has; stopped and removed when the script exits. Sets
# DATABASE (the connection string the templates' ${DATABASE} takes) and PSQL (for psql).
start_postgres() { # port
  command -v psql >/dev/null || die "psql is missing: apt-get install postgresql"
  export TESSERA_CI_PGDATA="/tmp/tessera-bench-pg-$$" TESSERA_CI_PGPORT=$1 TESSERA_CI_PGDURABLE=1
  trap 'stop_servers; "$ROOT/.ci/postgres.sh" stop; rm -rf "$TESSERA_CI_PGDATA" "$TMP"' EXIT
  say "PostgreSQL on port $1 (durable settings)"
  DATABASE=$("$ROOT/.ci/postgres.sh" start) || die "PostgreSQL did not start"
  PSQL="host=127.0.0.1 port=$1 user=postgres password=tessera-ci dbname=postgres"
}

# --- servers --------------------------------------------------------------------------------------------------
wait_ready() { # name url
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null --max-time 1 "$2" && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Tessera: Production environment and default logging, as deployed. Without arguments the server "tessera" on
# TESSERA_PORT with $TMP/tessera.json; a second one in the same run takes its own name, port and configuration.
# Its log is $OUT/<name>.log. Further arguments (VAR=value) are set in its environment only.
start_tessera() { # [name port config [VAR=value ...]]
  local name=${1:-tessera} port=${2:-$TESSERA_PORT} config=${3:-$TMP/tessera.json}
  URL[$name]="http://127.0.0.1:$port"
  (cd "$TMP" && exec env "${@:4}" nice -n "$BENCH_NICE" dotnet "$PUB/tessera.dll" serve --config "$config" \
    --urls "${URL[$name]}") >"$OUT/$name.log" 2>&1 &
  PID[$name]=$!
  wait_ready "$name" "${URL[$name]}/healthz" || die "Tessera ($name) did not start, see $OUT/$name.log"
}

# --- CPU accounting (clock ticks from /proc) -------------------------------------------------------------------
# utime + stime of a process and its descendants (a clustered peer's workers), all threads.
proc_ticks() {
  local pids=$1 next=$1
  while next=$(ps -o pid= --ppid "${next// /,}" 2>/dev/null | xargs); [[ -n $next ]]; do pids="$pids $next"; done
  # The root's cutime + cstime too: children that exited (PostgreSQL's backends, one per closed connection) leave
  # their time there, so the sum never goes backwards.
  local pid total
  total=$(awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0)
  for pid in $pids; do
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; } # user nice system irq softirq steal
HZ=$(getconf CLK_TCK)

# Waits (at most 15 s) until the server that was just loaded is idle (under 5% of a core for half a second), so
# work it deferred (GC, background writes, JIT) does not run during the next measurement.
settle() { # name
  local pid=${PID[$1]} a b
  for _ in $(seq 1 30); do
    a=$(proc_ticks "$pid"); sleep 0.5; b=$(proc_ticks "$pid")
    (( (b - a) * 100 / HZ * 2 < 5 )) && return 0
  done
  say "warning: $1 still busy 15 s after its run"
}

# Waits (at most 10 s) until the machine as a whole is quiet (under 15% of a core for half a second): other work
# on a shared machine skews a run, so start runs in a lull. The CPU other column shows what happened during it.
wait_quiet() {
  local a b
  for _ in $(seq 1 20); do
    a=$(machine_busy_ticks); sleep 0.5; b=$(machine_busy_ticks)
    (( (b - a) * 100 / HZ * 2 < 15 )) && return 0
  done
  return 0 # busy all along: run anyway
}

# Loads server $1's /token for $2 seconds with wrk.lua (BENCH_AUTH set, and any further VAR=value given); sets
# RESULT (the BENCH_RESULT line) and CPU figures in % of one core.
run_wrk() { # name seconds label [VAR=value ...]
  local pid=${PID[$1]} s0 m0 s1 m1 t0 t1
  wait_quiet
  s0=$(proc_ticks "$pid"); m0=$(machine_busy_ticks); t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time env BENCH_AUTH="$AUTH" "${@:4}" nice -n "$BENCH_NICE" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${2}s" --latency \
      --timeout 10s -s "$HERE/wrk.lua" "${URL[$1]}/token" >"$OUT/$3.wrk.txt"; } 2>"$OUT/$3.time.txt"
  t1=$(date +%s.%N); s1=$(proc_ticks "$pid"); m1=$(machine_busy_ticks)
  RESULT=$(grep '^BENCH_RESULT' "$OUT/$3.wrk.txt") || die "wrk printed no result, see $OUT/$3.wrk.txt"
  cpu_shares "$((s1 - s0))" "$((m1 - m0))" "$t0" "$t1" "$OUT/$3.time.txt"
  settle "$1"
}

# Sets CPU_SERVER, CPU_WRK (the load generator) and CPU_OTHER in % of one core, from the server's ticks, the
# machine's busy ticks, the wall clock and the generator's `time` output (user and system seconds, its last line).
cpu_shares() { # server-ticks machine-ticks t0 t1 time-file
  read -r CPU_SERVER CPU_WRK CPU_OTHER < <(awk -v s="$1" -v m="$2" -v hz="$HZ" -v t0="$3" -v t1="$4" \
    -v w="$(tail -n 1 "$5")" 'BEGIN { split(w, a, " "); wall = t1 - t0;
      srv = s / hz / wall * 100; gen = (a[1] + a[2]) / wall * 100; all = m / hz / wall * 100;
      other = all - srv - gen; if (other < 0) other = 0; printf "%.0f %.0f %.0f\n", srv, gen, other }')
}

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$RESULT"; }
errors_of() { awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(non2xx|wrong|connect|read|write|timeout)=/) { split($i, a, "="); n += a[2] } print n }' <<<"$RESULT"; }

# --- runs -----------------------------------------------------------------------------------------------------
FAILED=0
ROWS=()

# One warm-up run (discarded). Errors in it fail the benchmark.
warm_up() { # server label [VAR=value ...]
  run_wrk "$1" "$WARMUP" "$2-warmup" "${@:3}"
  say "$2 warm-up: $(printf '%.0f' "$(field rps)") req/s (discarded)"
  if [[ $(errors_of) -ne 0 ]]; then say "$2 warm-up had errors: $RESULT"; FAILED=1; fi
}

# One measured run, added to ROWS as "run name req/s p50_us p99_us errors CPU-server CPU-wrk CPU-other".
measure() { # run server name [VAR=value ...]
  local errors rps
  run_wrk "$2" "$DURATION" "$3-$1" "${@:4}"
  errors=$(errors_of)
  [[ $errors -eq 0 ]] || FAILED=1
  rps=$(field rps)
  ROWS+=("$1 $3 $rps $(field p50_us) $(field p99_us) $errors $CPU_SERVER $CPU_WRK $CPU_OTHER")
  say "$3-$1: $(printf '%.0f' "$rps") req/s, errors $errors, CPU server ${CPU_SERVER}% wrk ${CPU_WRK}% other ${CPU_OTHER}%"
}

# --- wallet load (credentials.sh, presentations.sh) -------------------------------------------------------------
CONCURRENCY=${CONCURRENCY:-16}

# Publishes and starts Tessera from template $1 with a fresh SCIM token for its organization (BENCH_SCIM_TOKEN, which
# the generators read); $2 says who the CONCURRENCY clients are, for the settings line.
start_wallet_tessera() { # template who
  prerequisites "$TESSERA_PORT"
  publish_tessera
  configure_tessera "$1"
  BENCH_SCIM_TOKEN=$(dotnet "$PUB/tessera.dll" secret new)
  export BENCH_SCIM_TOKEN
  say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  say "settings: $CONCURRENCY $2, ${WARMUP}s warm-up, then $RUNS x ${DURATION}s, nice $BENCH_NICE"
  start_tessera
}

# Loads Tessera for $2 seconds with the Node load generator $1 and CONCURRENCY wallets ("check" asks it to check its
# first answer before the load); sets RESULT, SERVER_SECONDS (Tessera's CPU time) and the CPU figures as run_wrk does.
run_load() { # generator seconds label [check]
  local pid=${PID[tessera]} s0 m0 s1 m1 t0 t1
  wait_quiet
  s0=$(proc_ticks "$pid"); m0=$(machine_busy_ticks); t0=$(date +%s.%N)
  local TIMEFORMAT='%U %S'
  { time nice -n "$BENCH_NICE" node "$HERE/$1" "${URL[tessera]}" "$2" "$CONCURRENCY" ${4:-} >"$OUT/$3.txt"; } 2>"$OUT/$3.time.txt" \
    || die "the load generator failed: $(grep -m1 "^${1%.mjs}" "$OUT/$3.time.txt") (see $OUT/$3.txt and $OUT/$3.time.txt)"
  t1=$(date +%s.%N); s1=$(proc_ticks "$pid"); m1=$(machine_busy_ticks)
  RESULT=$(grep '^BENCH_RESULT' "$OUT/$3.txt") || die "the load generator printed no result, see $OUT/$3.txt"
  SERVER_SECONDS=$(awk -v s="$((s1 - s0))" -v hz="$HZ" 'BEGIN { printf "%.2f", s / hz }')
  cpu_shares "$((s1 - s0))" "$((m1 - m0))" "$t0" "$t1" "$OUT/$3.time.txt"
  settle tessera
}

# The warm-up (WARMUP seconds, with the generator's check; discarded) and RUNS measured runs of DURATION seconds with
# generator $1, whose result counts its units as $2 (credentials, verifications). Each measured run adds a row to ROWS:
# "run units/s p50_us p99_us errors CPU-server CPU-generator CPU-other units server-CPU-seconds".
load_runs() { # generator units
  local run errors
  run_load "$1" "$WARMUP" warmup check
  grep '^check' "$OUT/warmup.txt" | while read -r line; do say "$line"; done
  say "warm-up: $(printf '%.0f' "$(field rps)") $2/s (discarded)"
  if [[ $(errors_of) -ne 0 ]]; then say "warm-up had errors: $RESULT"; FAILED=1; fi
  for run in $(seq 1 "$RUNS"); do
    run_load "$1" "$DURATION" "$2-$run"
    errors=$(errors_of)
    [[ $errors -eq 0 ]] || FAILED=1
    ROWS+=("$run $(field rps) $(field p50_us) $(field p99_us) $errors $CPU_SERVER $CPU_WRK $CPU_OTHER $(field "$2") $SERVER_SECONDS")
    say "run $run: $(printf '%.0f' "$(field rps)") $2/s, errors $errors, CPU server ${CPU_SERVER}% generator ${CPU_WRK}% other ${CPU_OTHER}%"
  done
}

# The table of load_runs' ROWS (saved to runs.txt and report.md) with the median units/s: $2 the units (plural), $3
# one of them.
load_report() { # title units unit
  printf '%s\n' "${ROWS[@]}" >"$OUT/runs.txt"
  awk -v title="$1" -v units="$2" -v unit="$3" -v cores="$(nproc)" "$MEDIAN_AWK"'
    BEGIN {
      printf "%s\n\n", title
      printf "| run | %s/s | p50 ms | p99 ms | errors | CPU server | CPU generator | CPU other | server CPU ms per %s |\n", units, unit
      printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    }
    {
      per = $9 > 0 ? $10 * 1000 / $9 : 0
      printf "| %s | %.0f | %.1f | %.1f | %d | %d%% | %d%% | %d%% | %.2f |\n", $1, $2, $3 / 1000, $4 / 1000, $5, $6, $7, $8, per
      r[++n] = $2; if ($8 > other) other = $8
    }
    END {
      printf "\nmedian %s/s: %.0f\n", units, median(r, n)
      printf "(CPU in %% of one core; the machine has %d. \"other\" is CPU used by processes outside the benchmark; highest %d%%.)\n", cores, other
    }' "$OUT/runs.txt" | tee "$OUT/report.md"
  echo
  say "raw output in $OUT"
}

# The whole of a wallet benchmark: Tessera from template $1; generator $2, whose result counts its units as $3 (one of
# them: $4), with CONCURRENCY clients ($5 says who they are); the table, titled with what is measured ($6); the exit code.
wallet_benchmark() { # template generator units unit who what
  start_wallet_tessera "$1" "$5"
  load_runs "$2" "$3"
  stop_servers
  load_report "Tessera $REVISION, $6, $CONCURRENCY $5 with keep-alive, ${WARMUP}s warm-up, ${DURATION}s per measured run" "$3" "$4"
  verdict
}

# --- report ---------------------------------------------------------------------------------------------------
MEDIAN_AWK='
    function median(list, n,   i, j, t, v) {
      for (i = 1; i <= n; i++) v[i] = list[i]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'

# Prints the table of ROWS (saved to runs.txt and report.md) and sets RATIO, the median req/s of rows named $4
# over that of rows named $6.
report() { # title first-column-heading numerator-label numerator-name denominator-label denominator-name
  printf '%s\n' "${ROWS[@]}" >"$OUT/runs.txt"
  local text
  text=$(awk -v title="$1" -v column="$2" -v nl="$3" -v nn="$4" -v dl="$5" -v dn="$6" -v cores="$(nproc)" "$MEDIAN_AWK"'
    BEGIN {
      printf "%s\n\n", title
      printf "| run | %s | req/s | p50 ms | p99 ms | errors | CPU server | CPU wrk | CPU other |\n", column
      printf "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    }
    {
      printf "| %s | %s | %.0f | %.1f | %.1f | %d | %d%% | %d%% | %d%% |\n", $1, $2, $3, $4 / 1000, $5 / 1000, $6, $7, $8, $9
      if ($2 == nn) a[++na] = $3; else if ($2 == dn) b[++nb] = $3
      if ($9 > other) other = $9
    }
    END {
      ma = median(a, na); mb = median(b, nb)
      printf "\nmedian req/s: %s %.0f, %s %.0f\n", nl, ma, dl, mb
      printf "ratio %s/%s: %.2fx\n", nl, dl, ma / mb
      printf "(CPU in %% of one core; the machine has %d. \"other\" is CPU used by processes outside the benchmark", cores
      printf "; highest %d%%.)\n", other
    }' "$OUT/runs.txt")
  echo
  echo "$text" | tee "$OUT/report.md"
  echo
  say "raw output in $OUT"
  RATIO=$(sed -n 's/^ratio .*: \([0-9.]*\)x$/\1/p' <<<"$text")
}

# The median req/s of the rows named $1 over that of the rows named $2, from runs.txt (after report).
median_ratio() { # numerator-name denominator-name
  awk -v nn="$1" -v dn="$2" "$MEDIAN_AWK"'
    $2 == nn { a[++na] = $3 } $2 == dn { b[++nb] = $3 }
    END { printf "%.2f", median(a, na) / median(b, nb) }' "$OUT/runs.txt"
}

# Exit code: 1 if any run had an error, 3 if RATIO is below MIN_RATIO (when set), else 0.
verdict() {
  if [[ $FAILED -ne 0 ]]; then say "INVALID: at least one run had errors (non-2xx or socket errors)"; exit 1; fi
  if [[ -n ${MIN_RATIO:-} ]] && awk -v r="$RATIO" -v m="$MIN_RATIO" 'BEGIN { exit !(r < m) }'; then
    say "ratio ${RATIO}x is below MIN_RATIO ${MIN_RATIO}x"; exit 3
  fi
}
