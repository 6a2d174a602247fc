-- Shared by the wrk scripts of bench/bench_server.sh: one summary line.
local M = {}

function M.done(name, per_request)
  return function(summary, latency, requests)
    local secs = summary.duration / 1e6
    local errs = summary.errors
    local bad = errs.status + errs.connect + errs.read + errs.write + errs.timeout
    io.write(string.format(
      "RESULT %s requests=%d seconds=%.2f rps=%.0f items_per_s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
      name, summary.requests, secs, summary.requests / secs, summary.requests * per_request / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
  end
end

function M.lines(path)
  local t = {}
  for l in io.lines(path) do
    if l ~= "" then t[#t + 1] = l end
  end
  return t
end

return M
