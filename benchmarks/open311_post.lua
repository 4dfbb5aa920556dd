-- wrk script for bench_open311_wrk.py: each request POSTs a new call at the next point.
-- Arguments (after --): points file (one "lat,long" per line), api_key, jurisdiction_id, a run tag.
local codes = {"streetlight_out", "no_water", "low_pressure", "water_leak", "flooding", "road_damage",
               "noise", "social_distress", "info_request"}
local threads, next_id = {}, 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  points = {}
  for line in io.lines(args[1]) do
    local lat, lon = line:match("^([^,]+),([^,]+)$")
    points[#points + 1] = {lat, lon}
  end
  key, jurisdiction, tag = args[2], args[3], args[4]
  sent = 0
end

function request()
  sent = sent + 1
  local i = sent * 16 + id  -- threads interleave over the points (at most 16 threads)
  local p = points[i % #points + 1]
  local body = "api_key=" .. key .. "&jurisdiction_id=" .. jurisdiction .. "&service_code=" .. codes[i % #codes + 1]
    .. "&lat=" .. p[1] .. "&long=" .. p[2] .. "&description=bench+" .. i .. "&phone=%2B39+0461+000000"
  return wrk.format("POST", "/open311/v2/requests.json",
                    {["Content-Type"] = "application/x-www-form-urlencoded",
                     ["Idempotency-Key"] = "wrk-" .. tag .. "-" .. id .. "-" .. sent}, body)
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("requests %d in %.1f s: %.1f req/s; HTTP errors (4xx, 5xx) %d, socket errors %d\n",
    summary.requests, s, summary.requests / s, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency ms: mean %.1f  p50 %.1f  p90 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
    latency.mean / 1e3, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
