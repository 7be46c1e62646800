#!/usr/bin/env bash
# SCIM list queries over 100,000 users on SQLite and PostgreSQL: for each filter, the count (totalResults) and one page
# of 100 users in the default order, as the list endpoint runs them. Prints median and p95 ms per filter and provider;
# plans and results go to bench/results/scim-list-<UTC time>/. Exit code 3 if a median is 50 ms or more.
# Settings: USERS (100000), RUNS (50), SQLITE_ANALYZE=0 (SQLite without statistics), NO_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

export OUT="${OUT:-bench/results/scim-list-$(date -u +%Y%m%dT%H%M%S)}"
mkdir -p "$OUT"

started_pg=""
if [ -z "${NO_POSTGRES:-}" ] && [ -z "${TESSERA_BENCH_POSTGRES:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >"$OUT/apt.log" 2>&1
    else
      echo "PostgreSQL is not installed (apt-get install postgresql); set NO_POSTGRES=1 to measure SQLite only" >&2
      exit 1
    fi
  fi
  export TESSERA_CI_PGDATA="/tmp/tessera-bench-scim-pg-$$"
  TESSERA_BENCH_POSTGRES=$(.ci/postgres.sh start)
  export TESSERA_BENCH_POSTGRES
  started_pg=1
  trap '.ci/postgres.sh stop; rm -rf "$TESSERA_CI_PGDATA"' EXIT
fi

dotnet build -c Release bench/Tessera.Scim.Benchmarks >"$OUT/build.log" 2>&1 || { tail -n 20 "$OUT/build.log"; exit 1; }
status=0
dotnet run -c Release --no-build --project bench/Tessera.Scim.Benchmarks || status=$?
[ -n "$started_pg" ] && echo "(PostgreSQL started for this run and stopped again)"
exit $status
