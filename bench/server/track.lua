-- GET /api/v1/track/{id} as the brand, cycling over the demo's units.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local paths, i = {}, 0

for _, code in ipairs(common.lines(os.getenv("BENCH_CODES"))) do
  local gtin, serial = code:match("/01/(%d+)/.*/21/([^?]+)")
  paths[#paths + 1] = "/api/v1/track/%2801%29" .. gtin .. "%2821%29" .. serial
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["X-API-Key"] = os.getenv("BENCH_KEY") })
end

done = common.done("track", 1)
