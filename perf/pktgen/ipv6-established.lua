-- kgw throughput, range mode: TCP ACKs of N established IPv6 client flows
-- towards V Services (perf/run's ipv6-est-* scenarios). See README.md.
--
--   pktgen -l 0-4 -a GEN_VF0 -a GEN_VF1 -- -m "[1:2].0,[3:4].1" -f perf/pktgen/ipv6-established.lua
--
-- kgw side: the manifests of `kgw-gen -m established -6 -s 10 -e 3 -M DIR`
-- (VIPs 2001:2::80:0:N port 80, endpoints 2001:2::10:0:N port 8080) and the
-- gateway.yaml of README.md (node address 2001:2::1, SNAT 2001:2::250,
-- neighbor 2001:2::1:2 = pktgen's rx_port, route 2001:2::10:0:0/96 via it).
--
-- Clients are 2001:2::40:0:0 upwards, one address per flow as kgw-gen does
-- (FLOWS = lcm(addresses, ports, SERVICES)). Frames are 78 bytes, the least
-- Ethernet + IPv6 + TCP + FCS takes. As with IPv4, pktgen 23.03 sends at most
-- 24,576 distinct packets per TX queue (ipv6-est-100k needs 5 TX queues).
--
-- Every parameter below can be overridden from the environment as KGW_<NAME>.
local cfg = {
  label = "", -- "" = perf/run's name for these flows and Services
  flows = 1000, -- ipv6-est-1k 1000, ipv6-est-100k 100000
  services = 10,
  tx_port = 0,
  rx_port = 1,
  tx_queues = 1,
  kgw_mac = "02:00:00:00:00:01",
  src_mac = "",
  size = 78, -- 14 Ethernet + 40 IPv6 + 20 TCP + 4 FCS
  max_ips = 1048576, -- client addresses from 2001:2::40:0:0
  max_ports = 64000,
  sport_lo = 1024,
  rates = "100",
  warmup = 3,
  seconds = 10,
  pause = 2,
  csv = "",
  log_file = "",
  verbose = false,
  screen = "off",
  quit = false,
  force = false,
  syn = false,
  ipv6 = true,
}

local function here()
  local src = debug.getinfo(1, "S").source
  return string.match(src, "^@(.*/)") or "./"
end
local kgw = dofile(here() .. "common.lua")

cfg = kgw.config(cfg)
kgw.run_tcp_range(cfg)
