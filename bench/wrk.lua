-- wrk script shared by every run, so both servers get the same requests from the same generator.
-- BENCH_AUTH set: POST a client_credentials token request with that Authorization header (client_secret_basic).
-- BENCH_AUTH and BENCH_SUBJECT_TOKENS set: POST RFC 8693 token exchange requests instead, one per subject token
--   in that file (one JWT a line), taken in turn (each wrk thread goes round the list on its own); BENCH_EXCHANGE_PARAMS
--   (form-encoded, e.g. "&audience=https%3A%2F%2Forders.internal") is appended to each.
-- BENCH_AUTH unset: plain GET of the URL (used to profile /healthz).
-- BENCH_FORWARDED_FOR set: every request also carries X-Forwarded-For with that address, as one that came through
--   a proxy or load balancer does (anomalies.sh; a Tessera that trusts 127.0.0.1 as a proxy takes it as the client's).
-- done() prints one machine-readable line that run.sh, exchange.sh and anomalies.sh parse.
local forwarded_for = os.getenv("BENCH_FORWARDED_FOR")
if forwarded_for and forwarded_for ~= "" then
  wrk.headers["X-Forwarded-For"] = forwarded_for
end

local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.method = "POST"
  wrk.body = "grant_type=client_credentials&scope=write:orders"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = auth

  local subject_tokens = os.getenv("BENCH_SUBJECT_TOKENS")
  if subject_tokens and subject_tokens ~= "" then
    local requests = {}
    -- In init, where wrk has set the Host header that wrk.format copies into each request.
    function init()
      for token in io.lines(subject_tokens) do
        if token ~= "" then
          -- The same body check-token.mjs sends.
          requests[#requests + 1] = wrk.format(nil, nil, nil,
            "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=" .. token
            .. "&subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=write:orders"
            .. (os.getenv("BENCH_EXCHANGE_PARAMS") or ""))
        end
      end
      assert(#requests > 0, "no subject tokens in " .. subject_tokens)
    end
    local next_request = 0
    function request()
      next_request = next_request % #requests + 1
      return requests[next_request]
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.1f non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
