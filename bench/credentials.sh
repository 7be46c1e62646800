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
wallet_benchmark "$HERE/tessera-credentials.template.json" credential-load.mjs credentials credential "concurrent wallets" \
  "OpenID4VCI credential issuance (nonce + ES256 proof + SD-JWT VC, employee credential)"
