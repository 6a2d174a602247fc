-- GET the packs' Digital Links (the consumer scans), cycling over the demo's codes.
-- The requests are formatted once per wrk thread, as in track.lua.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local reqs, n, i = {}, 0, 0

init = function(args)
  local headers = { ["Accept"] = "application/json" }
  for _, code in ipairs(common.lines(os.getenv("BENCH_CODES"))) do
    reqs[#reqs + 1] = wrk.format("GET", (code:gsub("^https?://[^/]+", "")), headers)
  end
  n = #reqs
end

request = function()
  i = i % n + 1
  return reqs[i]
end

done = common.done(os.getenv("BENCH_NAME") or "authenticate", 1)
