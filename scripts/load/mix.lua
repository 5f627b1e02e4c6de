-- wrk script of the load benchmark (scripts/load.sh): replays the request stream
-- written by gen_requests.py, one raw HTTP/1.1 request per line.
--
--   wrk -t T -c C -d D -s mix.lua URL -- REQUESTS_TSV T [RATE [REPLAY_BASE [PER_CONN]]]
--
-- REQUESTS_TSV  gen_requests.py's output: family <TAB> slot <TAB> head <TAB> rest,
--               CR LF written as the four characters \r\n.
-- T             the same thread count as -t (each thread replays every T-th line,
--               so together they send the stream once per replay, in order).
-- RATE          requests per second for all threads together; 0 or absent: as fast
--               as the server answers (closed loop, C requests in flight).
-- REPLAY_BASE   first replay number (default 0): runs with different bases get
--               different visitor addresses (load.sh gives warm-up and measured
--               runs different bases).
-- PER_CONN      requests per connection: every PER_CONN-th request a thread sends
--               carries `Connection: close`, so the server closes after answering
--               it and wrk opens a new connection (on average PER_CONN requests
--               each, as browsers that send a hit or two per page view); 0 or
--               absent: connections stay open for the whole run.
--
-- The visitor's address: every line names a visitor slot and an address family.
-- The X-Forwarded-For value is a hash of (slot, replay), where replay counts how
-- often this thread has gone through the file: within a replay each slot keeps one
-- address (a visit's pageviews share it, as from one browser), the next replay
-- brings new addresses (new visitors), and both servers get the identical stream.
-- IPv4 addresses avoid private, loopback, multicast and reserved first octets; IPv6
-- ones lie in large ISP allocations (DE, US, CN, IN, FR, BR, NL, GB, JP) so a GeoIP
-- lookup finds a country, as for real visitors.
--
-- Fixed rate (RATE > 0): wrk has no rate option, so this script defines wrk's
-- delay() hook, which wrk calls before each request on a connection. The thread
-- keeps a schedule, one slot every T/RATE seconds; delay() hands the next slot to
-- whichever connection asks and returns the milliseconds until it (0 when due).
-- wrk's latency clock starts when the request is written, so a request that could
-- not go out on time (all connections busy) would hide its queueing delay
-- ("coordinated omission"): such requests are counted as late and reported.
--
-- done() prints one machine-readable line starting with "MIX " for load.sh.

local bit = require("bit")
local ffi = require("ffi")

ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } mix_timespec;
  int clock_gettime(int clk_id, mix_timespec *tp);
]]
local ts = ffi.new("mix_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local TWO32 = 4294967296

-- a * b mod 2^32, exact in doubles (every partial product < 2^50).
local function mul32(a, b)
  local alo, ahi = a % 65536, (a - a % 65536) / 65536
  local blo, bhi = b % 65536, (b - b % 65536) / 65536
  return (((ahi * blo + alo * bhi) % 65536) * 65536 + alo * blo) % TWO32
end

-- murmur3's finaliser: a bijection on 32-bit values that mixes every bit.
local function fmix(h)
  h = bit.bxor(h, bit.rshift(h, 16)) % TWO32
  h = mul32(h, 0x85ebca6b)
  h = bit.bxor(h, bit.rshift(h, 13)) % TWO32
  h = mul32(h, 0xc2b2ae35)
  h = bit.bxor(h, bit.rshift(h, 16)) % TWO32
  return h
end

-- Public unicast first octets: not 0, 10, 100 (CGN), 127, 169 (link-local),
-- 172 (private), 192 (private, TEST-NET), 198 (benchmarking, TEST-NET),
-- 203 (TEST-NET), 224-255 (multicast, reserved).
local V4_FIRST = {}
do
  local skip = { [0] = true, [10] = true, [100] = true, [127] = true, [169] = true,
    [172] = true, [192] = true, [198] = true, [203] = true }
  for o = 1, 223 do
    if not skip[o] then V4_FIRST[#V4_FIRST + 1] = o end
  end
end

-- Large IPv6 allocations: first hextet, second hextet's fixed part, and how many
-- low bits of the second hextet vary.
local V6_PREFIXES = {
  { 0x2003, 0x0000, 13 }, -- 2003::/19       Deutsche Telekom, DE
  { 0x2601, 0x0000, 12 }, -- 2601::/20       Comcast, US
  { 0x240e, 0x0000, 12 }, -- 240e::/20       China Telecom, CN
  { 0x2409, 0x4000, 10 }, -- 2409:4000::/22  Reliance Jio, IN
  { 0x2a01, 0xcb00, 8 },  -- 2a01:cb00::/24  Orange, FR
  { 0x2804, 0x014c, 0 },  -- 2804:14c::/32   BR
  { 0x2a02, 0xa400, 6 },  -- 2a02:a400::/26  NL
  { 0x2a00, 0x23c0, 4 },  -- 2a00:23c0::/28  GB
  { 0x240b, 0x0010, 4 },  -- 240b:10::/28    JP
}

local function address(family, slot, replay)
  local h = fmix((fmix(replay % TWO32) + slot) % TWO32)
  if family == "v6" then
    local g = fmix(bit.bxor(h, 0x5bd1e995) % TWO32)
    local p = V6_PREFIXES[h % #V6_PREFIXES + 1]
    local second = p[2] + (g % 2 ^ p[3])
    local k = fmix(bit.bxor(g, 0x27d4eb2f) % TWO32)
    return string.format("%x:%x:%x:%x:%x:%x:%x:%x", p[1], second,
      (g - g % 65536) / 65536 % 65536, h % 65536, (h - h % 65536) / 65536,
      k % 65536, (k - k % 65536) / 65536, (g + k) % 65536)
  end
  local first = V4_FIRST[h % #V4_FIRST + 1]
  local rest = fmix(bit.bxor(h, 0x9e3779b9) % TWO32) % 16777216
  return string.format("%d.%d.%d.%d", first, (rest - rest % 65536) / 65536,
    (rest - rest % 256) / 256 % 256, rest % 256)
end

-- Main state: remember the threads so done() can read their counters.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- Thread state.
local fam, slots, heads, heads_close, rests = {}, {}, {}, {}, {}
local n, pos, replay, per_conn = 0, 0, 0, 0
local interval, next_at

function init(args)
  local file = args[1]
  local nthreads = tonumber(args[2] or "1")
  local rate = tonumber(args[3] or "0")
  replay = tonumber(args[4] or "0")
  per_conn = tonumber(args[5] or "0")
  assert(file, "usage: wrk ... -s mix.lua URL -- REQUESTS_TSV THREADS [RATE [REPLAY_BASE [PER_CONN]]]")
  local mine = id or 0
  local line_no = 0
  for line in io.lines(file) do
    if line_no % nthreads == mine then
      local f, s, head, rest = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
      assert(f, "bad line " .. line_no .. " in " .. file)
      n = n + 1
      fam[n], slots[n] = f, tonumber(s)
      heads[n] = head:gsub("\\r\\n", "\r\n")
      -- The same head with the header after the request line.
      heads_close[n] = heads[n]:gsub("\r\n", "\r\nConnection: close\r\n", 1)
      rests[n] = rest:gsub("\\r\\n", "\r\n")
    end
    line_no = line_no + 1
  end
  assert(n > 0, "no requests for thread " .. mine .. " in " .. file)
  late, late_max_ms, sent = 0, 0, 0
  if rate > 0 then
    interval = 1000 * nthreads / rate
    -- Defined only for a fixed rate: wrk checks for delay() after init().
    delay = function()
      local now = now_ms()
      if next_at == nil then next_at = now end
      next_at = next_at + interval
      local wait = next_at - now
      if wait < -1 then
        late = late + 1
        if -wait > late_max_ms then late_max_ms = -wait end
        -- Far behind (the server stalled): restart the schedule rather than
        -- firing a burst to catch up.
        if wait < -1000 then next_at = now end
      end
      if wait <= 0 then return 0 end
      return math.floor(wait)
    end
  end
end

-- A visit's requests reuse its slot's address within a replay.
local cached_addr, cached_replay = {}, {}

function request()
  pos = pos + 1
  if pos > n then
    pos = 1
    replay = replay + 1
  end
  sent = sent + 1
  local slot = slots[pos]
  local addr = cached_addr[slot]
  if cached_replay[slot] ~= replay then
    addr = address(fam[pos], slot, replay)
    cached_addr[slot], cached_replay[slot] = addr, replay
  end
  if per_conn > 0 and sent % per_conn == 0 then
    return heads_close[pos] .. addr .. rests[pos]
  end
  return heads[pos] .. addr .. rests[pos]
end

function done(summary, latency, requests)
  local late_total, late_max, sent_total = 0, 0, 0
  for _, t in ipairs(threads) do
    late_total = late_total + (tonumber(t:get("late")) or 0)
    late_max = math.max(late_max, tonumber(t:get("late_max_ms")) or 0)
    sent_total = sent_total + (tonumber(t:get("sent")) or 0)
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "MIX requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f " ..
    "p999_ms=%.3f max_ms=%.3f mean_ms=%.3f connect_errors=%d read_errors=%d " ..
    "write_errors=%d status_errors=%d timeouts=%d late=%d late_max_ms=%.1f sent=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, late_total, late_max, sent_total))
end
