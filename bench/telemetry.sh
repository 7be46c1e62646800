#!/usr/bin/env bash
# Telemetry off against on: client_credentials issuance by one Tessera build started twice, once with no OTEL_*
# variables (nothing composed, the default) and once exporting every span and metric over OTLP/HTTP protobuf to a
# local sink (otlp-sink.mjs, which reads and discards). Both servers up for the whole run, one loaded at a time,
# warm-up each, measured runs alternating off on off on, as revisions.sh does.
#
#   bash bench/telemetry.sh
#
# Settings as in run.sh (RUNS WARMUP DURATION CONNECTIONS THREADS TESSERA_PORT TESSERA_REF BENCH_NICE); the server
# with telemetry listens on TELEMETRY_PORT (default 5093), the sink on SINK_PORT (default 4318). The sink's own CPU
# during each "on" run is printed apart: it is a collector's work, elsewhere in a deployment, and is part of the
# "CPU other" column of those runs. TELEMETRY_ENV="VAR=value ..." adds to the "on" server's environment, e.g.
# TELEMETRY_ENV="OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1" for the sampling that
# docs/observability.md sets up (a tenth of the traces, every metric).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TELEMETRY_PORT=${TELEMETRY_PORT:-5093}
SINK_PORT=${SINK_PORT:-4318}

prerequisites "$TESSERA_PORT" "$TELEMETRY_PORT" "$SINK_PORT"
publish_tessera
configure_tessera "$HERE/tessera.template.json"
configure_tessera "$HERE/tessera.template.json" "$TMP/telemetry.json" "$TELEMETRY_PORT"
sed -i "s|bench.db|telemetry.db|" "$TMP/telemetry.json"

node "$HERE/otlp-sink.mjs" "$SINK_PORT" >"$OUT/sink.log" 2>&1 &
PID[sink]=$!
for _ in $(seq 1 50); do grep -q listening "$OUT/sink.log" 2>/dev/null && break; sleep 0.1; done

# The standard variables only; OTEL_METRIC_EXPORT_INTERVAL shortened so metrics are exported within each run too.
OTEL=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
  OTEL_SERVICE_NAME=tessera-bench OTEL_METRIC_EXPORT_INTERVAL=5000)
read -r -a EXTRA_ENV <<<"${TELEMETRY_ENV:-}"
OTEL+=("${EXTRA_ENV[@]}")
say "machine: $(nproc) cores; settings: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up each, $RUNS x ${DURATION}s each, alternating"
say "telemetry on: ${OTEL[*]}"
start_tessera off "$TESSERA_PORT" "$TMP/tessera.json"
start_tessera on "$TELEMETRY_PORT" "$TMP/telemetry.json" "${OTEL[@]}"
for server in off on; do
  check=$(node "$HERE/check-token.mjs" "${URL[$server]}" 2>&1) || die "token check failed: $check"
  say "$server: $check"
  warm_up "$server" "$server"
done

sink_ticks() { proc_ticks "${PID[sink]}"; }
for run in $(seq 1 "$RUNS"); do
  for server in off on; do
    before=$(sink_ticks)
    measure "$run" "$server" "$server"
    say "  sink CPU during $server-$run: $(( ($(sink_ticks) - before) * 100 / HZ / DURATION ))% of one core"
  done
done
stop_servers
say "$(grep '^OTLP_SINK' "$OUT/sink.log" || echo 'sink printed no counts')"

report "Tessera $REVISION, telemetry on (OTLP/HTTP to a local sink) vs off, client_credentials, ES256 at+jwt; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up each, ${DURATION}s per measured run${TELEMETRY_ENV:+; on: $TELEMETRY_ENV}" \
  telemetry on on off off
verdict
