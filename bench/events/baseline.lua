-- wrk script: the cheapest worker route (GET /v1/health), for the dev server's own ceiling.
done = function(summary, latency, requests)
  io.write(string.format("baseline GET /v1/health: %.0f requests/s, p50 %.1f ms\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000))
end
