-- wrk script: each request GETs a path built from PATH_PREFIX and a random line of
-- VALUES_FILE (customer ids, search terms ...), with the bearer token in TOKEN.
local values = {}
for line in io.lines(os.getenv("VALUES_FILE")) do
  values[#values + 1] = line
end
local prefix = os.getenv("PATH_PREFIX")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }

request = function()
  return wrk.format("GET", prefix .. values[math.random(#values)], headers)
end
