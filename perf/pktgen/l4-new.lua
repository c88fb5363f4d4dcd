-- kgw throughput, range mode: TCP SYNs, every packet meant as a new flow, towards
-- 1,000 Services (perf/run's l4-new-1k-svc), IPv4. See README.md.
--
--   pktgen -l 0-4 -a GEN_VF0 -a GEN_VF1 -- -m "[1:2].0,[3:4].1" -f perf/pktgen/l4-new.lua
--
-- kgw side: the manifests of `kgw-gen -m new -s 1000 -e 3 -M DIR` and the
-- gateway.yaml of README.md with services: {maglev_size: 1021} and a SMALL
-- conntrack_entries (below).
--
-- Source address (16,384 of 198.18.64.0/18), source port (1024..65023) and
-- VIP (1,000 of 198.19.128.0/17) each step by one per packet. But pktgen 23.03
-- writes its range packets into the port's mbufs once, at start, and then
-- sends the same mbufs over and over: the SYNs repeat after 24,576 packets
-- per TX queue. A SYN seen again while kgw still holds its connection is a
-- tracked packet, not a new flow. So kgw's table must be much smaller than
-- the cycle: services.conntrack_entries <= 24,576 x TX_QUEUES / (8 x workers)
-- (2048 for one TX queue and one worker; the minimum is 64), so that every
-- SYN finds its earlier connection evicted. This differs from perf/run
-- (200,000 SYNs against 65,536 entries): a small table sits in cache. The
-- pcap replay (run-pcap.sh l4-new-1k-svc) keeps perf/run's sizes.
-- Check on kgw: `show counters` new-flows must grow as fast as rx, and
-- conntrack hits must stay near 0.
--
-- Every parameter below can be overridden from the environment as KGW_<NAME>.
local cfg = {
  label = "", -- "" = perf/run's name for these flows and Services
  services = 1000,
  tx_port = 0, -- pktgen port cabled towards kgw's p0
  rx_port = 1, -- pktgen port that kgw's p1 sends to (neighbor 198.18.1.2)
  tx_queues = 1, -- TX cores/queues of tx_port in -m ("[1:2-3].0" = 2)
  kgw_mac = "02:00:00:00:00:01", -- kgw p0's MAC
  src_mac = "", -- "" = tx_port's own MAC
  size = 64, -- frame bytes with FCS
  max_ips = 16384, -- client addresses 198.18.64.0/18
  max_ports = 64000, -- source ports from sport_lo
  sport_lo = 1024,
  rates = "100", -- percent of link speed, e.g. "100,50,30"
  warmup = 3,
  seconds = 10,
  pause = 2,
  csv = "",
  log_file = "",
  verbose = false,
  screen = "off",
  quit = false,
  force = false,
  flows = 0, -- unused: every SYN is its own flow
  syn = true,
  ipv6 = false,
}

local function here()
  local src = debug.getinfo(1, "S").source
  return string.match(src, "^@(.*/)") or "./"
end
local kgw = dofile(here() .. "common.lua")

cfg = kgw.config(cfg)
kgw.run_tcp_range(cfg)
