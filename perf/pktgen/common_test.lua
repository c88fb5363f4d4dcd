-- Checks the parts of common.lua that do not need pktgen: the flow plan, the
-- line-rate arithmetic, addresses and KGW_* overrides; and that every scenario
-- script compiles. Run by CI as `lua5.4 perf/pktgen/common_test.lua` (the
-- meson test pktgen_lua sets KGW_SIZE=128 to check the override path).
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local kgw = dofile(dir .. "common.lua")

local failures, checks = 0, 0
local function check(ok, what)
  checks = checks + 1
  if not ok then
    failures = failures + 1
    print("FAIL: " .. what)
  end
end

-- Range mode steps address, port and VIP once per packet, each wrapping at its
-- own count: count the distinct tuples over two periods.
local function distinct_tuples(a, b, s, steps)
  local seen, n = {}, 0
  for i = 0, steps - 1 do
    local key = (i % a) .. ":" .. (i % b) .. ":" .. (i % s)
    if not seen[key] then seen[key] = true; n = n + 1 end
  end
  return n
end

for _, case in ipairs({{1000, 10}, {100000, 10}, {1000, 1000}, {60000, 3}, {96000, 8}, {1000000, 10}}) do
  local flows, services = case[1], case[2]
  local a, b = kgw.plan_flows(flows, services, 16384, 4096)
  local what = string.format("plan_flows(%d, %d) = %d addresses x %d ports", flows, services, a, b)
  check(a <= 16384 and b <= 4096, what .. " within limits")
  check(kgw.lcm(kgw.lcm(a, b), services) == flows, what .. " gives lcm == flows")
  if flows <= 100000 then check(distinct_tuples(a, b, services, 2 * flows) == flows, what .. ": distinct tuples") end
end
check(not pcall(kgw.plan_flows, 1001, 10, 16384, 4096), "flows not a multiple of services is an error")
check(not pcall(kgw.plan_flows, 98304, 8, 16384, 4096), "2^15 x 3 flows cannot be planned within 2^14 addresses and 4096 ports")

local function near(x, want) return math.abs(x - want) <= want * 1e-4 end
check(near(kgw.line_rate_pps(10000, 64), 14880952), "10 GbE at 64 bytes is 14.88 Mpps")
check(near(kgw.line_rate_pps(100000, 64), 148809524), "100 GbE at 64 bytes is 148.8 Mpps")
check(kgw.line_rate_pps(0, 64) == 0, "a link that is down has no line rate")

check(kgw.ip4_text(kgw.ip4("198.18.64.1")) == "198.18.64.1", "IPv4 text round trip")
check(kgw.ip4("198.19.128.0") == 0xC6138000, "198.19.128.0 as a number")
check(kgw.ip6_text(0x40, 0x10002) == "2001:2::40:1:2", "IPv6 text")
check(table.concat(kgw.list("100, 90,80"), " ") == "100 90 80", "list parsing")
check(not pcall(kgw.list, "10,x"), "a list with a non-number is an error")

local cfg = kgw.config({size = 64, tx_port = 0, label = "x"})
local want = tonumber(os.getenv("KGW_SIZE") or "64")
check(cfg.size == want, "KGW_SIZE overrides size")
check(cfg.frame_bytes == cfg.size, "frame_bytes follows size when a script does not set it")
check(kgw.config({frame_bytes = 84, size = 64}).frame_bytes == 84, "an explicit frame_bytes is kept")

for _, script in ipairs({"common", "ipv6-established", "l4-established", "l4-new", "local-icmp", "pcap-replay"}) do
  local chunk, err = loadfile(dir .. script .. ".lua")
  check(chunk ~= nil, script .. ".lua compiles: " .. tostring(err))
end

print(string.format("%d passed, %d failed", checks - failures, failures))
os.exit(failures == 0 and 0 or 1)
