-- kgw throughput: ICMP echo requests to the gateway's own address 198.18.0.1
-- (perf/run's "local" scenario), answered by kgw's workers. See README.md.
--
-- pktgen 23.03 cannot stream echo requests itself: its ICMP packet type in
-- single and range mode is a timestamp request (type 13), which kgw does not
-- answer (local_unhandled), and ping4 sends one packet. So this scenario
-- replays kgw-gen's pcap (ICMP echo requests, 1 in 8 an ARP request for
-- 198.18.0.1, all from 198.18.0.2 / 02:00:00:00:00:02):
--
--   perf/pktgen/run-pcap.sh local        # writes the pcap, prints this command:
--   pktgen -l 0-4 -a GEN_VF0 -a GEN_VF1 -- -m "[1:2].0,[3:4].1" \
--       -s 0:/tmp/kgw-pktgen/local/in.pcap -f perf/pktgen/local-icmp.lua
--
-- kgw answers on p0, so the rate to read is rx on pktgen's tx_port (rx_port =
-- tx_port here). All requests carry one address pair: RSS puts them on one
-- queue, so this scenario measures one worker whatever `workers` says.
--
-- Every parameter below can be overridden from the environment as KGW_<NAME>.
local cfg = {
  label = "local",
  tx_port = 0, -- the port given the pcap with -s 0:FILE
  rx_port = 0, -- kgw's answers come back to the sender
  rates = "100",
  warmup = 3,
  seconds = 10,
  pause = 2,
  frame_bytes = 64,
  csv = "",
  log_file = "",
  verbose = false,
  screen = "off",
  quit = false,
}

local function here()
  local src = debug.getinfo(1, "S").source
  return string.match(src, "^@(.*/)") or "./"
end
local kgw = dofile(here() .. "common.lua")

kgw.run_pcap(kgw.config(cfg))
