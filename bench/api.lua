-- wrk script of bench/api.py: GETs the paths listed in the file $SCF_BENCH_PATHS (one per line), each
-- thread starting at its own offset and going round, with the bearer token $SCF_BENCH_TOKEN; after
-- the run it prints one JSON line (requests, non-2xx/3xx responses, socket errors, latency percentiles
-- in microseconds).

local paths = {}
for line in io.lines(os.getenv("SCF_BENCH_PATHS")) do
  paths[#paths + 1] = line
end
local headers = { ["Authorization"] = "Bearer " .. os.getenv("SCF_BENCH_TOKEN") }
local requests = {}  -- formatted once per thread: the load generator shares the machine's cores
local next_index = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

function init(args)
  next_index = (offset or 0) % #paths
  for i, path in ipairs(paths) do
    requests[i] = wrk.format("GET", path, headers)
  end
end

function request()
  next_index = next_index % #paths + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bad_status": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
