-- POST /api/v1/report: batches of 100 new units commissioned at the
-- brand's factory, every event a new one (durable writes, no duplicates).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local counter = 0
local tag = nil

init = function(args)
  -- a tag per wrk thread and run, so runs and threads never collide
  tag = string.format("%x%x", os.time() % 65536, math.random(0, 65535))
end

request = function()
  local parts = {}
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 60)
  for k = 1, 100 do
    counter = counter + 1
    parts[k] = string.format(
      '{"product_id":"(01)09506000134352(21)B%s%d","event_type":"commission","location":"9506000000015","timestamp":"%s","condition":{"temperature":4.2}}',
      tag, counter, ts)
  end
  return wrk.format("POST", "/api/v1/report",
    { ["X-API-Key"] = os.getenv("BENCH_KEY"), ["Content-Type"] = "application/json" },
    "[" .. table.concat(parts, ",") .. "]")
end

done = common.done("report", 100)
