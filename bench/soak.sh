#!/usr/bin/env bash
# The soak: three Tessera nodes on one PostgreSQL behind a round-robin balancer, under mixed load (client_credentials,
# refresh grants, brokered sign-ins through oidc-provider, SCIM writes, Admin API changes) for 10 minutes. Each node's
# resident memory, open file handles and threads are sampled every 30 s, with each window's latency; after a 2-minute
# warm-up, memory and handles must stay within 10 % and p99 must not drift up, and no request may fail. Exit code 1
# when one of them does not hold. It needs Debian's postgresql package (the cluster is started and removed by it).
#
#   bash bench/soak.sh
#
# Settings (environment): SOAK_SECONDS=600 SOAK_WINDOW_SECONDS=30 SOAK_WARMUP_SECONDS=120, TESSERA_REF=<git rev>
# (build that revision instead of the working tree). The curve and verdicts are printed and written to
# bench/results/<UTC time>/soak.json.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"
TMP=$(mktemp -d /tmp/tessera-soak.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }
(cd "$ROOT/interop" && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 || { echo "npm ci in interop/ failed, see $OUT/npm.log" >&2; exit 2; }
src="$ROOT"
if [[ -n ${TESSERA_REF:-} ]]; then
  mkdir -p "$TMP/src"
  git -C "$ROOT" archive "$TESSERA_REF" | tar -x -C "$TMP/src"
  src="$TMP/src"
fi
echo "dotnet publish -c Release ($(git -C "$ROOT" describe --always --dirty))"
dotnet publish "$src/src/Tessera" -c Release -o "$TMP/tessera" -nologo -v q >"$OUT/build.log" 2>&1 || { echo "publish failed, see $OUT/build.log" >&2; exit 2; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
cd "$ROOT/interop"
TESSERA_DLL="$TMP/tessera/tessera.dll" SOAK_OUT="$OUT/soak.json" node soak.mjs 2>&1 | grep -v 'oidc-provider WARNING' | tee "$OUT/soak.txt"
exit "${PIPESTATUS[0]}"
