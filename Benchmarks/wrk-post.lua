-- POSTs the body in BODY_FILE with CONTENT_TYPE (and X-API-Key when API_KEY is set; with API_KEYS_FILE, one key per
-- line, each request takes the next key in turn); prints one RESULT line.
wrk.method = "POST"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
local key = os.getenv("API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end

local keys = {}
local keys_file = os.getenv("API_KEYS_FILE")
if keys_file and keys_file ~= "" then
  for line in io.lines(keys_file) do
    if line ~= "" then table.insert(keys, line) end
  end
end
if #keys > 0 then
  -- Every request is built once, here: formatting a 320 kB request per call would cost wrk (on the same cores)
  -- more than the gateway's own per-key work, and the one-key baseline formats it once too.
  local prepared = {}
  for i, k in ipairs(keys) do
    wrk.headers["X-API-Key"] = k
    prepared[i] = wrk.format()
  end
  local turn = math.random(#keys)
  request = function()
    turn = turn % #keys + 1
    return prepared[turn]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
