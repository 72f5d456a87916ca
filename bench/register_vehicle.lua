-- wrk script: each request registers a vehicle (POST /api/v1/vehicles) with a plate no
-- other request used, for an owner drawn from OWNERS_FILE; the bearer token in TOKEN.
local owners = {}
for line in io.lines(os.getenv("OWNERS_FILE")) do owners[#owners + 1] = line end
local tag = os.getenv("RUN_TAG")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json" }
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"owner_id": "%s", "plate": "%s%d-%06d", "make": "Volvo", "model": "V60"}',
    owners[math.random(#owners)], tag, tid, counter)
  return wrk.format("POST", "/api/v1/vehicles", headers, body)
end
