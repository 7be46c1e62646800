#!/usr/bin/env bash
# Single-threaded SAML Response validation (BenchmarkDotNet, Release). Results: BenchmarkDotNet.Artifacts/results.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/Tessera.Saml.Benchmarks -- --filter '*' --join "$@"
