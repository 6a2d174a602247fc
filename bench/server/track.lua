-- GET /api/v1/track/{id} as the brand, cycling over the demo's units.
-- The requests are formatted once per wrk thread (in init, when wrk knows
-- the Host header), so the load generator spends its time on the wire and
-- not in Lua: it shares the machine's cores with the server.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local reqs, n, i = {}, 0, 0

init = function(args)
  local headers = { ["X-API-Key"] = os.getenv("BENCH_KEY") }
  for _, code in ipairs(common.lines(os.getenv("BENCH_CODES"))) do
    local gtin, serial = code:match("/01/(%d+)/.*/21/([^?]+)")
    reqs[#reqs + 1] = wrk.format("GET", "/api/v1/track/%2801%29" .. gtin .. "%2821%29" .. serial, headers)
  end
  n = #reqs
end

request = function()
  i = i % n + 1
  return reqs[i]
end

done = common.done("track", 1)
