-- wrk script: each request completes (POST /api/v1/maintenance-jobs/{id}/complete) a job
-- of JOBS_FILE (jobs in progress); WRK_THREADS threads take turns, so no job is completed
-- twice. The bearer token in TOKEN.
local jobs = {}
for line in io.lines(os.getenv("JOBS_FILE")) do jobs[#jobs + 1] = line end
local stride = tonumber(os.getenv("WRK_THREADS"))
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json" }
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
request = function()
  local job = jobs[(counter * stride + tid - 1) % #jobs + 1]  -- past the end: 409s, counted as failures
  counter = counter + 1
  return wrk.format("POST", "/api/v1/maintenance-jobs/" .. job .. "/complete", headers,
    '{"technician_notes": "bench"}')
end
