-- Helpers shared by kgw's pktgen-dpdk scripts (perf/pktgen/*.lua); see README.md.
--
-- The scenario scripts load this file from their own folder and call one of
-- run_tcp_range() (range mode: l4-established.lua, l4-new.lua,
-- ipv6-established.lua) or run_pcap() (pcap replay: local-icmp.lua,
-- pcap-replay.lua).
--
-- Written for pktgen-dpdk 23.03 built with Lua (meson -Denable_lua=true). It
-- calls only functions of that version's Lua library (app/lpktgenlib.c):
--   pktgen.set, set_range, pcap, start, stop, clr, delay, portStats,
--   linkState, screen, load, quit,
--   pktgen.range.set_type, ip_proto, dst_mac, src_mac, src_ip, dst_ip,
--   src_port, dst_port, ttl, hop_limits, pkt_size.
-- TCP flags have no Lua function in 23.03: they are set with the CLI commands
-- "range <port> tcp flag set|clr <flag>" run through pktgen.load() of a
-- small command file.
local M = {}

-- The "Range TX" mempool of pktgen 23.03 holds MAX_MBUFS_PER_PORT mbufs per TX
-- queue: (DEFAULT_RX_DESC + DEFAULT_TX_DESC) * 8 = (1024 + 2048) * 8 in
-- app/pktgen-constants.h. Range mode writes each mbuf once, when the port is
-- started (one step of the range per mbuf), and then sends those mbufs over
-- and over: a TX queue never sends more distinct packets than this.
M.RANGE_MBUFS_PER_TXQ = 24576

---------------------------------------------------------------------------
-- Parameters

local function parse_value(name, text, default)
  if type(default) == "number" then
    local n = tonumber(text)
    if n == nil then error(name .. ": not a number: " .. text) end
    return n
  elseif type(default) == "boolean" then
    return text == "1" or text == "true" or text == "yes" or text == "on"
  end
  return text
end

-- Every key of cfg can be overridden from the environment as KGW_<KEY>
-- (tx_port -> KGW_TX_PORT): pktgen passes no arguments to a -f script.
function M.config(cfg)
  for k, v in pairs(cfg) do
    local name = "KGW_" .. string.upper(k)
    local text = os.getenv(name)
    if text ~= nil and text ~= "" then cfg[k] = parse_value(name, text, v) end
  end
  -- Scripts that build their own packets know their frame size; the line-rate
  -- figure needs it.
  if cfg.frame_bytes == nil then cfg.frame_bytes = cfg.size end
  return cfg
end

-- "100,90,80" -> {100, 90, 80}
function M.list(text)
  local out = {}
  for item in string.gmatch(tostring(text), "[^,%s]+") do
    local n = tonumber(item)
    if n == nil then error("not a number in list: " .. item) end
    out[#out + 1] = n
  end
  return out
end

local function int(x) return math.floor(tonumber(x) + 0.5) end

---------------------------------------------------------------------------
-- Arithmetic for the flow plan

local function gcd(a, b)
  while b ~= 0 do a, b = b, a % b end
  return a
end
M.gcd = gcd

local function lcm(a, b) return a // gcd(a, b) * b end
M.lcm = lcm

-- The smallest b with lcm(l, b) == f, where l divides f: for every prime p
-- whose power in l falls short of its power in f, b takes p's full power in f.
local function complement(f, l)
  local r, b, p = f // l, 1, 2
  while r > 1 do
    if p * p > r then p = r end
    if r % p == 0 then
      while r % p == 0 do r = r // p end
      local pe = 1
      while f % (pe * p) == 0 do pe = pe * p end
      b = b * pe
    end
    p = p + 1
  end
  return b
end

-- Range mode steps every field once per packet and each field wraps at its own
-- maximum, so A source addresses, B source ports and S Service VIPs give
-- lcm(A, B, S) distinct 5-tuples before the sequence repeats. Returns A and B
-- with lcm(A, B, S) == flows exactly, A <= max_ips and B <= max_ports, A as
-- large as possible (more client addresses: closer to kgw-gen, better RSS).
function M.plan_flows(flows, services, max_ips, max_ports)
  if flows % services ~= 0 then
    error(string.format("flows (%d) must be a multiple of services (%d)", flows, services), 0)
  end
  for a = math.min(flows, max_ips), 1, -1 do
    if flows % a == 0 then
      local l = lcm(a, services)
      if flows % l == 0 then
        local b = complement(flows, l)
        if b <= max_ports then return a, b end
      end
    end
  end
  error(string.format("no plan: %d flows over %d Services with at most %d addresses x %d ports",
    flows, services, max_ips, max_ports), 0)
end

---------------------------------------------------------------------------
-- Addresses (kgw-gen's plan: clients 198.18.64.0/18 and 2001:2::40:0:0/96,
-- VIPs 198.19.128.0/17 and 2001:2::80:0:0/96 port 80)

function M.ip4(text)
  local a, b, c, d = string.match(text, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then error("not an IPv4 address: " .. text) end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

function M.ip4_text(n)
  return string.format("%d.%d.%d.%d", (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end

-- 2001:2::<hi>:<n>, the form kgw-gen writes (n below 2^32)
function M.ip6_text(hi, n)
  return string.format("2001:2::%x:%x:%x", hi, (n >> 16) & 0xffff, n & 0xffff)
end

---------------------------------------------------------------------------
-- Port facts

local function link_mbps(port)
  local ok, st = pcall(pktgen.linkState, tostring(port))
  if not ok or type(st) ~= "table" or st[port] == nil then return 0 end
  return tonumber(string.match(st[port], "UP%-(%d+)")) or 0
end

-- Packets per second of a full link for frames of `bytes` (FCS included):
-- every frame also takes 7 bytes of preamble, 1 of start delimiter and 12 of
-- inter-frame gap on the wire.
function M.line_rate_pps(mbps, bytes)
  if mbps <= 0 or bytes <= 0 then return 0 end
  return mbps * 1e6 / ((bytes + 20) * 8)
end

---------------------------------------------------------------------------
-- Range mode

-- One range field: start, min, max and increment (all four, always: pktgen's
-- defaults step the ports and the destination address by one).
local function field(fn, port, start, min, max, inc)
  fn(port, "start", start)
  fn(port, "min", min)
  fn(port, "max", max)
  fn(port, "inc", inc)
end

-- Runs CLI commands (those the Lua library lacks) through a command file.
function M.cli(lines)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  for _, l in ipairs(lines) do f:write(l, "\n") end
  f:close()
  local ok, err = pcall(pktgen.load, path)
  os.remove(path)
  if not ok then error("pktgen.load of CLI commands failed: " .. tostring(err)) end
end

-- TCP ACK (established) or SYN (new flows) on the range packets of a port.
-- pktgen's default range packet carries ACK only. Note: the range page shows
-- the flags pktgen copied at start-up, not these; check kgw's counters.
function M.tcp_flags(port, syn)
  if syn then
    M.cli({ "range " .. port .. " tcp flag clr all", "range " .. port .. " tcp flag set syn" })
  else
    M.cli({ "range " .. port .. " tcp flag clr all", "range " .. port .. " tcp flag set ack" })
  end
end

-- Sets up range mode on c.tx_port for TCP towards the Services:
--   c.ipv6, c.size, c.kgw_mac, c.src_mac ("" = the port's own),
--   c.n_ips (client addresses from the first of the family's client range),
--   c.sport_lo, c.n_ports (source ports sport_lo .. sport_lo + n_ports - 1),
--   c.services (VIPs from the first), c.syn.
function M.setup_tcp_range(c)
  local p = tostring(c.tx_port)
  if c.sport_lo + c.n_ports - 1 > 65534 then
    -- pktgen keeps the port in 16 bits: past 65535 it wraps to 0, below the
    -- minimum, and is set back to the maximum, where it then stays.
    error("source ports must end below 65535")
  end
  pktgen.stop(p)
  pktgen.set_range(p, "off")
  pktgen.range.set_type(p, c.ipv6 and "ipv6" or "ipv4") -- first: addresses are parsed per type
  pktgen.range.ip_proto(p, "tcp")
  -- Range mode paces by the single packet's size: keep the two equal.
  pktgen.set(p, "size", c.size)
  field(pktgen.range.pkt_size, p, c.size, c.size, c.size, 0)
  pktgen.range.dst_mac(p, "start", c.kgw_mac)
  if c.src_mac ~= nil and c.src_mac ~= "" then pktgen.range.src_mac(p, "start", c.src_mac) end

  if c.ipv6 then
    local inc_ip = function(n) return n > 1 and "::1" or "::" end
    field(pktgen.range.src_ip, p, M.ip6_text(0x40, 0), M.ip6_text(0x40, 0), M.ip6_text(0x40, c.n_ips - 1),
      inc_ip(c.n_ips))
    field(pktgen.range.dst_ip, p, M.ip6_text(0x80, 0), M.ip6_text(0x80, 0), M.ip6_text(0x80, c.services - 1),
      inc_ip(c.services))
    field(pktgen.range.hop_limits, p, 64, 64, 64, 0)
  else
    local client, vip = M.ip4("198.18.64.0"), M.ip4("198.19.128.0")
    if c.n_ips > 16384 then error("at most 16384 client addresses (198.18.64.0/18)") end
    if c.services > 32768 then error("at most 32768 VIPs (198.19.128.0/17)") end
    local inc_ip = function(n) return n > 1 and "0.0.0.1" or "0.0.0.0" end
    field(pktgen.range.src_ip, p, M.ip4_text(client), M.ip4_text(client), M.ip4_text(client + c.n_ips - 1),
      inc_ip(c.n_ips))
    field(pktgen.range.dst_ip, p, M.ip4_text(vip), M.ip4_text(vip), M.ip4_text(vip + c.services - 1),
      inc_ip(c.services))
    field(pktgen.range.ttl, p, 64, 64, 64, 0)
  end
  field(pktgen.range.src_port, p, c.sport_lo, c.sport_lo, c.sport_lo + c.n_ports - 1, c.n_ports > 1 and 1 or 0)
  field(pktgen.range.dst_port, p, 80, 80, 80, 0)
  M.tcp_flags(p, c.syn)
  pktgen.set_range(p, "on")
end

---------------------------------------------------------------------------
-- Measurement

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end
M.median = median

local function mpps(x) return string.format("%.3f", x / 1e6) end

local function say(c, text)
  print("kgw-pktgen: " .. text)
  if c.log_file ~= nil and c.log_file ~= "" then
    local f = io.open(c.log_file, "a")
    if f then f:write(os.date("%Y-%m-%dT%H:%M:%S "), text, "\n"); f:close() end
  end
end
M.say = say

-- For every rate in c.rates (percent of the TX port's link): clear the
-- counters, start c.tx_port, wait c.warmup seconds, then read pktgen's
-- per-second rates c.seconds times, stop, and print the medians:
--   tx  packets/s sent on c.tx_port,
--   rx  packets/s received on c.rx_port (the port facing kgw's p1; for the
--       local scenario the TX port itself, which gets kgw's answers),
--   rx-missed  packets/s c.rx_port's NIC dropped because pktgen's RX cores
--       fell behind: it must stay 0, or rx understates kgw.
-- Each per-second sample also goes to c.csv when set:
--   epoch,label,rate_pct,second,tx_pps,rx_pps,rx_missed_pps
function M.measure(c)
  local tx, rx = int(c.tx_port), int(c.rx_port)
  local plist = (tx == rx) and tostring(tx) or (tostring(tx) .. "," .. tostring(rx))
  local mbps = link_mbps(rx)
  local line = M.line_rate_pps(mbps, c.frame_bytes)
  local csv = nil
  if c.csv ~= nil and c.csv ~= "" then
    local exists = io.open(c.csv, "r")
    if exists then exists:close() end
    csv = assert(io.open(c.csv, "a"))
    if not exists then csv:write("epoch,label,rate_pct,second,tx_pps,rx_pps,rx_missed_pps\n") end
  end
  local results = {}
  for _, rate in ipairs(M.list(c.rates)) do
    pktgen.stop(tostring(tx))
    pktgen.set(tostring(tx), "rate", rate)
    pktgen.delay(500)
    pktgen.clr()
    pktgen.start(tostring(tx))
    pktgen.delay(int(c.warmup * 1000))
    local txs, rxs, miss = {}, {}, {}
    for i = 1, int(c.seconds) do
      pktgen.delay(1000)
      local st = pktgen.portStats(plist, "rate")
      local t, r = st[tx], st[rx]
      txs[i], rxs[i], miss[i] = t.opackets, r.ipackets, r.imissed + r.rx_nombuf
      if csv then
        csv:write(string.format("%d,%s,%s,%d,%d,%d,%d\n", os.time(), c.label, tostring(rate), i, txs[i], rxs[i],
          miss[i]))
        csv:flush()
      end
      if c.verbose then
        say(c, string.format("%s %s%% s%d tx %s rx %s rx-missed %s Mpps", c.label, tostring(rate), i, mpps(txs[i]),
          mpps(rxs[i]), mpps(miss[i])))
      end
    end
    pktgen.stop(tostring(tx))
    local mt, mr, mm = median(txs), median(rxs), median(miss)
    local text = string.format("%s rate %s%%: tx %s Mpps (port %d), rx %s Mpps (port %d), rx/tx %.1f%%, " ..
      "pktgen rx-missed %s Mpps", c.label, tostring(rate), mpps(mt), tx, mpps(mr), rx,
      mt > 0 and 100 * mr / mt or 0, mpps(mm))
    if line > 0 then
      text = text .. string.format(", rx = %.1f%% of %d Mb/s line rate at %s-byte frames (%s Mpps)",
        100 * mr / line, mbps, tostring(c.frame_bytes), mpps(line))
    end
    say(c, text .. string.format(" [median of %d s]", int(c.seconds)))
    if mr > 0 and mm > 0.001 * mr then
      say(c, "  warning: pktgen's RX port dropped packets itself; give it more RX cores (-m) before trusting rx")
    end
    results[#results + 1] = { rate = rate, tx = mt, rx = mr, missed = mm }
    pktgen.delay(int(c.pause * 1000))
  end
  if csv then csv:close() end
  return results
end

-- Runs body() with pktgen's screen off (when c.screen == "off"), and puts the
-- screen back, or quits pktgen when c.quit, whether body succeeded or not.
local function guarded(c, body)
  if c.screen == "off" then pktgen.screen("off") end
  local ok, result = pcall(body)
  if not ok then say(c, "error: " .. tostring(result)) end
  if c.quit then pktgen.quit() end
  if c.screen == "off" then pktgen.screen("on") end
  if not ok then error(result, 0) end
  return result
end

---------------------------------------------------------------------------
-- Entry points of the scenario scripts

-- perf/run's names: 1000 -> 1k, 100000 -> 100k, 1000000 -> 1m
local function short(n)
  n = int(n)
  if n >= 1000000 and n % 1000000 == 0 then return (n // 1000000) .. "m" end
  if n >= 1000 and n % 1000 == 0 then return (n // 1000) .. "k" end
  return tostring(n)
end

-- The scenario's name as perf/run prints it, from the flows and Services.
function M.label(c)
  if c.syn then return "l4-new-" .. short(c.services) .. "-svc" end
  local name = (c.ipv6 and "ipv6-est-" or "l4-est-") .. short(c.flows)
  if int(c.services) ~= 10 then name = name .. "-" .. short(c.services) .. "-svc" end
  return name
end

-- Range mode TCP towards the Services (established ACKs or new-flow SYNs).
function M.run_tcp_range(c)
  if c.label == nil or c.label == "" then c.label = M.label(c) end
  return guarded(c, function()
    local max_pkts = M.RANGE_MBUFS_PER_TXQ * int(c.tx_queues)
    if c.syn then
      -- New flows: as many distinct SYNs as possible; the mbufs cap them.
      c.n_ips, c.n_ports = int(c.max_ips), int(c.max_ports)
      local distinct = math.min(max_pkts, lcm(lcm(c.n_ips, c.n_ports), int(c.services)))
      say(c, string.format("%s: SYNs towards %d Services from %d addresses x %d source ports; " ..
        "the range repeats after %d packets (%d TX queue(s) x %d mbufs)", c.label, c.services, c.n_ips, c.n_ports,
        distinct, int(c.tx_queues), M.RANGE_MBUFS_PER_TXQ))
      say(c, string.format("  kgw must forget a flow before it comes back: set services.conntrack_entries to " ..
        "at most %d / (8 x workers), and check that show counters' new-flows grows as fast as rx", distinct))
    else
      c.n_ips, c.n_ports = M.plan_flows(int(c.flows), int(c.services), int(c.max_ips), int(c.max_ports))
      say(c, string.format("%s: %d flows = lcm(%d addresses, %d source ports, %d Services)", c.label, c.flows,
        c.n_ips, c.n_ports, c.services))
      local flows = int(c.flows)
      if flows > max_pkts then
        local msg = string.format("%d flows need %d mbufs, pktgen has %d (%d TX queue(s) x %d): range mode " ..
          "would send only %d distinct flows. Give the port at least %d TX queues in -m (and KGW_TX_QUEUES), " ..
          "or replay kgw-gen's pcap (run-pcap.sh).", flows, flows, max_pkts, int(c.tx_queues),
          M.RANGE_MBUFS_PER_TXQ, max_pkts, (flows + M.RANGE_MBUFS_PER_TXQ - 1) // M.RANGE_MBUFS_PER_TXQ)
        if not c.force then error(msg, 0) end
        say(c, "warning (force): " .. msg)
      end
    end
    M.setup_tcp_range(c)
    return M.measure(c)
  end)
end

-- Replay of the pcap given to pktgen with -s <tx_port>:<file>.
function M.run_pcap(c)
  return guarded(c, function()
    pktgen.stop(tostring(c.tx_port))
    pktgen.set_range(tostring(c.tx_port), "off")
    pktgen.pcap(tostring(c.tx_port), "on") -- a no-op when no pcap was loaded for the port
    say(c, string.format("%s: replaying the pcap of port %d (pktgen -s %d:FILE), reading rx on port %d", c.label,
      int(c.tx_port), int(c.tx_port), int(c.rx_port)))
    return M.measure(c)
  end)
end

return M
