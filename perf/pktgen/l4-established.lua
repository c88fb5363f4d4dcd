-- kgw throughput, range mode: TCP ACKs of N established client flows towards
-- V Services (perf/run's l4-est-* scenarios), IPv4. See README.md.
--
--   pktgen -l 0-4 -a GEN_VF0 -a GEN_VF1 -- -m "[1:2].0,[3:4].1" -f perf/pktgen/l4-established.lua
--   KGW_FLOWS=100000 KGW_TX_QUEUES=5 pktgen ... -m "[1:2-6].0,[7:8].1" -f perf/pktgen/l4-established.lua
--
-- kgw side: the manifests of `kgw-gen -m established -s SERVICES -e 3 -M DIR`
-- (l4-est-1m-10k-svc: -s 10000 -e 10) and the gateway.yaml of README.md.
--
-- Flows: source address, source port and VIP each step by one per packet, so
-- FLOWS = lcm(addresses, ports, SERVICES) exactly (1,000 = 1,000 addresses x
-- 1 port; 100,000 = 12,500 x 32; 1,000,000 = 15,625 x 64). pktgen 23.03 sends
-- at most 24,576 distinct packets per TX queue (see common.lua): more flows
-- than that need more TX queues on the port, or the pcap replay
-- (run-pcap.sh), which is the way for the 1M-flow scenarios. The script stops
-- with an error rather than send fewer flows than asked (KGW_FORCE=1 sends
-- them anyway).
--
-- Every parameter below can be overridden from the environment as KGW_<NAME>.
local cfg = {
  label = "", -- "" = perf/run's name for these flows and Services
  flows = 1000, -- l4-est-1k 1000, l4-est-100k 100000, l4-est-1m 1000000
  services = 10, -- l4-est-1m-10k-svc: 10000
  tx_port = 0, -- pktgen port cabled towards kgw's p0
  rx_port = 1, -- pktgen port that kgw's p1 sends to (neighbor 198.18.1.2)
  tx_queues = 1, -- TX cores/queues of tx_port in -m ("[1:2-3].0" = 2)
  kgw_mac = "02:00:00:00:00:01", -- kgw p0's MAC (dataplane's ports[0].mac)
  src_mac = "", -- "" = tx_port's own MAC (set it from the PF to 02:00:00:00:00:02)
  size = 64, -- frame bytes with FCS
  max_ips = 16384, -- client addresses 198.18.64.0/18
  max_ports = 64000, -- source ports from sport_lo
  sport_lo = 1024,
  rates = "100", -- percent of link speed, e.g. "100,90,80"
  warmup = 3, -- seconds sent before reading (kgw creates the connections)
  seconds = 10, -- seconds read per rate (median)
  pause = 2, -- seconds between rates
  csv = "", -- per-second samples appended here when set
  log_file = "",
  verbose = false, -- print every one-second sample
  screen = "off", -- turn pktgen's screen off while running (prints stay readable)
  quit = false, -- quit pktgen at the end
  force = false,
  syn = false,
  ipv6 = false,
}

local function here()
  local src = debug.getinfo(1, "S").source
  return string.match(src, "^@(.*/)") or "./"
end
local kgw = dofile(here() .. "common.lua")

cfg = kgw.config(cfg)
kgw.run_tcp_range(cfg)
