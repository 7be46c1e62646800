-- wrk script shared by every run, so both servers get the same requests from the same generator.
-- BENCH_AUTH set: POST a client_credentials token request with that Authorization header (client_secret_basic).
-- BENCH_AUTH unset: plain GET of the URL (used to profile /healthz).
-- done() prints one machine-readable line that run.sh parses.
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.method = "POST"
  wrk.body = "grant_type=client_credentials&scope=write:orders"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.1f non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
