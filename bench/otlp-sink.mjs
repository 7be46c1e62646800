// A stand-in OTLP/HTTP collector for bench/telemetry.sh: accepts protobuf exports on /v1/traces, /v1/metrics and
// /v1/logs on 127.0.0.1, reads each body whole and discards it, answers 200 with an empty Export*ServiceResponse
// (an empty protobuf message is valid). It counts what arrived, printed as one line on SIGTERM so the benchmark can
// show the exporter really sent. No dependencies.
import http from 'node:http';

const port = Number(process.argv[2] ?? 4318);
const seen = { requests: 0, bytes: 0, traces: 0, metrics: 0, other: 0 };

const server = http.createServer((request, response) => {
  let bytes = 0;
  request.on('data', (chunk) => { bytes += chunk.length; });
  request.on('end', () => {
    seen.requests++;
    seen.bytes += bytes;
    if (request.url === '/v1/traces') seen.traces++;
    else if (request.url === '/v1/metrics') seen.metrics++;
    else seen.other++;
    response.writeHead(request.method === 'POST' ? 200 : 404, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    response.end();
  });
});

server.listen(port, '127.0.0.1', () => console.log(`otlp-sink listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  console.log(`OTLP_SINK requests=${seen.requests} bytes=${seen.bytes} traces=${seen.traces} metrics=${seen.metrics} other=${seen.other}`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
