-- wrk script: POST /v1/events batches of BATCH events (Segment shape), spread over VISITORS
-- anonymous visitors (one Durable Object each). Every event has a unique messageId, so every
-- one is stored, none is a duplicate. Non-200 answers are counted and printed at the end.
local batch = tonumber(os.getenv("BATCH") or "10")
local visitors = tonumber(os.getenv("VISITORS") or "1000")
local counter, thread_id, bad = 0, 0, 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local skus = { "85123A", "71053", "84406B", "84029G", "22423", "85099B" }
local kinds = {
  function(sku) return '"type":"track","event":"Product Viewed","properties":{"sku":"' .. sku .. '"}' end,
  function(sku) return '"type":"track","event":"Product Added","properties":{"sku":"' .. sku .. '","quantity":1}' end,
  function(_) return '"type":"page","properties":{"path":"/"}' end,
}

request = function()
  counter = counter + 1
  -- One visitor per request: a browser's batch is one visitor's events.
  local visitor = (thread_id * 7919 + counter) % visitors
  local events = {}
  for i = 1, batch do
    local kind = kinds[(counter + i) % #kinds + 1]
    events[i] = "{" .. kind(skus[(counter + i) % #skus + 1]) ..
      ',"messageId":"b' .. thread_id .. "-" .. counter .. "-" .. i ..
      '","anonymousId":"bench-' .. visitor .. '","context":{"utcOffsetMinutes":60}}'
  end
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "application/json" }, '{"batch":[' .. table.concat(events, ",") .. "]}")
end

response = function(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad <= 3 then print("non-200: " .. status .. " " .. body) end
  end
end

done = function(summary, latency, requests)
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local ok = math.max(summary.requests - summary.errors.status, 0)
  io.write(string.format("events accepted/s: %.0f (batch %d, %d requests answered 200, %d other statuses, %d socket errors)\n",
    ok * batch / (summary.duration / 1e6), batch, ok, summary.errors.status, socket))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
