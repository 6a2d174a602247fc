-- GET the packs' Digital Links (the consumer scans), cycling over the demo's codes.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local paths, i = {}, 0

for _, code in ipairs(common.lines(os.getenv("BENCH_CODES"))) do
  paths[#paths + 1] = code:gsub("^https?://[^/]+", "")
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept"] = "application/json" })
end

done = common.done("authenticate", 1)
