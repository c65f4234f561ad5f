-- wrk script for scripts/bench-server.sh: POSTs the design's example request to /v1/plan
-- and prints one machine-readable RESULT line at the end.
-- BENCH_UNIQUE=1 adds a different number to every prompt, so no two requests embed the
-- same text (the server's query-vector cache never hits).
local path = os.getenv("BENCH_REQUEST") or "crates/cloudops-server/tests/server/design_request.json"
local file = assert(io.open(path, "rb"), "cannot open " .. path)
local body = file:read("*a")
file:close()
local unique = os.getenv("BENCH_UNIQUE") == "1"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local counter = 0
function request()
  if not unique then
    return wrk.format()
  end
  counter = counter + 1
  local tag = string.format("%d%07d", id or 0, counter)
  local varied = body:gsub('"Stop pg%-instance%-main1"', '"Stop pg-instance-main1 (' .. tag .. ')"', 1)
  return wrk.format(nil, nil, nil, varied)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests,
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(90) / 1000,
    latency:percentile(99) / 1000,
    latency.max / 1000,
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
