-- wrk script: each request books (POST /api/v1/appointments) a vehicle of VEHICLES_FILE
-- at the next 30-minute slot from BASE_EPOCH in a workshop open around the clock in UTC
-- with the bays of BAYS_FILE: request n takes bay n mod bays at slot n / bays, so no
-- two requests ask for one bay-slot and a vehicle comes round again only hours later.
-- With AUTO_BAY set the bay is left to the service: the requests in flight then ask for
-- the same slot and the service gives each the next free bay. The bearer token in TOKEN.
local vehicles, bays = {}, {}
for line in io.lines(os.getenv("VEHICLES_FILE")) do vehicles[#vehicles + 1] = line end
for line in io.lines(os.getenv("BAYS_FILE")) do bays[#bays + 1] = line end
local auto = os.getenv("AUTO_BAY") ~= nil and os.getenv("AUTO_BAY") ~= ""
local base = tonumber(os.getenv("BASE_EPOCH"))
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json" }
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
request = function()
  local n = tid * 100000 + counter
  counter = counter + 1
  local start = base + math.floor(n / #bays) * 1800
  local stamp = "!%Y-%m-%dT%H:%M:%S+00:00"
  local bay = ""
  if not auto then bay = string.format('"bay_id": "%s", ', bays[n % #bays + 1]) end
  local body = string.format(
    '{"vehicle_id": "%s", %s"start": "%s", "end": "%s", "work_description": "bench booking"}',
    vehicles[n % #vehicles + 1], bay, os.date(stamp, start), os.date(stamp, start + 1800))
  return wrk.format("POST", "/api/v1/appointments", headers, body)
end
