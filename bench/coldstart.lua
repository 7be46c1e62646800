-- wrk script of coldstart.sh: the same client_credentials requests as wrk.lua, with every 200 answer counted in the
-- wall-clock second it arrived in, so the first seconds of a fresh process show as a curve. done() prints one
-- "BENCH_SECOND <unix second> <tokens>" line per second, summed over wrk's threads, then wrk.lua's BENCH_RESULT line.
dofile(os.getenv("BENCH_WRK_LUA"))

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

seconds = {}
function response(status)
  if status == 200 then
    local now = os.time()
    seconds[now] = (seconds[now] or 0) + 1
  end
end

local report = done
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for second, count in pairs(thread:get("seconds")) do
      total[second] = (total[second] or 0) + count
    end
  end
  local keys = {}
  for second in pairs(total) do keys[#keys + 1] = second end
  table.sort(keys)
  for _, second in ipairs(keys) do
    io.write(string.format("BENCH_SECOND %d %d\n", second, total[second]))
  end
  report(summary, latency, requests)
end
