-- wrk script for `npm run bench` (bench/run.ts).
--
--   wrk -tT ... -s bench/load.lua URL -- whoami <tokens file> T
--       GET /sessions/whoami with X-Session-Token, tokens round-robin (duration-bound).
--   wrk -tT ... -s bench/load.lua URL -- whoami-once <tokens file> T
--       The same, each token exactly once, bounded like logout (primes Curfew's session cache
--       with the whole population before the warm-up, and R1's page cache alike).
--   wrk -tT ... -s bench/load.lua URL -- logout <tokens file> T
--       DELETE /self-service/logout/api {"session_token": …}, every token exactly once: the
--       run is bounded by the pool. When the pool is used up the thread stops and prints
--       BENCH_EXHAUSTED (the driver then interrupts wrk, whose main thread would otherwise sleep
--       the whole -d), and the rate is computed here over the real window (first request handed
--       out → last token handed out), timed with CLOCK_MONOTONIC.
--   wrk -tT ... -s bench/load.lua URL -- firstock-logout <tokens file> T <userId>
--       POST /api/V4/logout {"userId": <userId>, "jKey": …}, each token once, bounded as logout.
--   wrk -tT ... -s bench/load.lua URL -- assets-logout <tokens file> T
--       POST /services/logout with Cookie: authToken=… and X-CSRF-TOKEN, each token once,
--       bounded as logout. Each line of the file is "<token> <csrfToken>".
--   wrk -tT ... -s bench/load.lua URL -- code-exchange <codes file> T <authorization> <redirect_uri>
--       POST /oauth/token grant_type=authorization_code (a form), with the app's
--       `Authorization: Basic …` header and its form-encoded redirect_uri as given; each code
--       once, bounded as logout. Each line of the file is "<code> <code_verifier>".
--
-- Each wrk thread takes its own slice of the file (line k goes to thread k mod threads), so no
-- token is used twice even with -t > 1. Prints one line "BENCH_JSON {...}" from done().

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

-- tid is set by setup() (main state) before init() runs in the thread's state.
tid = 0
nthreads = 1

-- Read back by done() through thread:get.
started = 0
stopped = 0
handed = 0
pool = 0

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter - 1)
  table.insert(threads, thread)
  counter = counter + 1
end

local mode
local reqs = {}
local n = 0
local i = 0

function init(args)
  mode = args[1]
  local file = args[2]
  -- The thread count comes as an argument: thread k is set up and initialised before thread
  -- k + 1 exists, so setup() cannot tell it.
  nthreads = tonumber(args[3] or "1")
  local user = args[4]
  local redirect = args[5]
  if mode ~= "whoami" and mode ~= "whoami-once" and mode ~= "logout" and mode ~= "firstock-logout" and mode ~= "assets-logout"
    and mode ~= "code-exchange" then
    error("mode must be whoami, whoami-once, logout, firstock-logout, assets-logout or code-exchange")
  end
  if mode == "firstock-logout" and not user then error("firstock-logout needs a userId") end
  if mode == "code-exchange" and not redirect then error("code-exchange needs an Authorization header and a redirect_uri") end
  local k = 0
  for line in io.lines(file) do
    if line ~= "" then
      if k % nthreads == tid then
        n = n + 1
        if mode == "whoami" or mode == "whoami-once" then
          reqs[n] = wrk.format("GET", "/sessions/whoami", { ["X-Session-Token"] = line })
        elseif mode == "logout" then
          reqs[n] = wrk.format("DELETE", "/self-service/logout/api",
            { ["Content-Type"] = "application/json" }, '{"session_token":"' .. line .. '"}')
        elseif mode == "firstock-logout" then
          reqs[n] = wrk.format("POST", "/api/V4/logout",
            { ["Content-Type"] = "application/json" }, '{"userId":"' .. user .. '","jKey":"' .. line .. '"}')
        elseif mode == "code-exchange" then
          local code, verifier = line:match("^(%S+) (%S+)$")
          if not code then error("code-exchange lines are '<code> <code_verifier>'") end
          reqs[n] = wrk.format("POST", "/oauth/token",
            { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = user },
            "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect .. "&code_verifier=" .. verifier)
        else
          local token, csrf = line:match("^(%S+) (%S+)$")
          if not token then error("assets-logout lines are '<token> <csrfToken>'") end
          reqs[n] = wrk.format("POST", "/services/logout",
            { ["Cookie"] = "authToken=" .. token, ["X-CSRF-TOKEN"] = csrf, ["Content-Length"] = "0" })
        end
      end
      k = k + 1
    end
  end
  pool = n
  if n == 0 then error("no tokens for this thread in " .. file) end
end

local verified = false

function request()
  -- wrk calls request() once on thread 0 before the run, only to check that the request
  -- parses; that one is never sent, so it must not use up (or time) a token.
  if tid == 0 and not verified then
    verified = true
    return reqs[1]
  end
  i = i + 1
  if i == 1 then started = now() end
  if mode == "whoami" then
    if i > n then i = 1 end
    return reqs[i]
  end
  if i > n then
    -- Pool used up: stop this thread. The request returned here may be written but its
    -- answer is never read or counted (the loop ends first); it is harmless anyway.
    if stopped == 0 then
      stopped = now()
      -- wrk's main thread sleeps the whole -d whatever the threads do; this line tells
      -- bench/run.ts to end it early with SIGINT (wrk then reports as usual).
      io.stdout:write("BENCH_EXHAUSTED\n")
      io.stdout:flush()
    end
    wrk.thread:stop()
    return wrk.format("GET", "/health/alive")
  end
  handed = i
  return reqs[i]
end

function done(summary, latency, requests)
  local first, last, all_stopped, total_handed, total_pool = nil, 0, true, 0, 0
  for _, t in ipairs(threads) do
    local s, e = t:get("started"), t:get("stopped")
    if s > 0 and (first == nil or s < first) then first = s end
    if e == 0 then all_stopped = false elseif e > last then last = e end
    total_handed = total_handed + t:get("handed")
    total_pool = total_pool + t:get("pool")
  end
  local window = summary.duration / 1e6
  local exhausted = all_stopped and first ~= nil
  if exhausted then window = last - first end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.6f,"window_s":%.6f,"exhausted":%s,"handed":%d,"pool":%d,' ..
    '"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration / 1e6, window, tostring(exhausted), total_handed, total_pool,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
