#!/usr/bin/env bash
# OpenID4VP 1.0 verification throughput: how many presentations one Tessera verifies per second for apps, cross-device.
# One verification is what an app and a wallet do together: the app asks for `over-21` (POST /presentations/requests,
# HTTP Basic), the wallet fetches the request object, presents its age credential with only "21" disclosed and a
# key-binding JWT over the request's nonce (POST /presentations/response), and the app takes the result (POST
# /presentations/result): four requests, the third a full SD-JWT VC verification. The load generator is
# presentation-load.mjs (Node, jose, keep-alive, CONCURRENCY app and wallet pairs, each wallet with its own key and age
# credential, issued before the timer starts); Tessera runs on SQLite with tessera-presentations.template.json (one
# organization provisioned over SCIM, the age credential, the over-21 presentation for the app bench-verifier). A
# warm-up, then RUNS measured runs. Prints a table (verifications/s, p50 and p99 of one verification, errors, CPU of
# Tessera, of the generator and of everything else, and Tessera's CPU time per verification); exits 1 if any run had
# an error.
#
#   bash bench/presentations.sh
#
# Settings (environment): RUNS=3 WARMUP=20 DURATION=20 CONCURRENCY=16 TESSERA_PORT=5090 TESSERA_REF BENCH_NICE
#   (as in run.sh). The library figure (verifying a presentation without HTTP) is bench/Tessera.Credentials.Benchmarks.
set -euo pipefail
WARMUP=${WARMUP:-20}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
wallet_benchmark "$HERE/tessera-presentations.template.json" presentation-load.mjs verifications verification "concurrent app and wallet pairs" \
  "OpenID4VP verification (request, request object, direct_post of an SD-JWT VC with one age disclosed and a KB-JWT, result)"
