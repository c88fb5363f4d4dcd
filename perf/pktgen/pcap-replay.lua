-- kgw throughput: replay of a kgw-gen pcap, the most faithful way to send any
-- scenario of perf/run (l4-est-1m, l4-new-1k-svc, l4-est-1m-10k-svc, ...). See
-- README.md; run-pcap.sh writes the pcap and prints the whole command, e.g.
--
--   KGW_LABEL=l4-est-1m pktgen -l 0-4 -a GEN_VF0 -a GEN_VF1 -- -m "[1:2].0,[3:4].1" \
--       -s 0:/tmp/kgw-pktgen/l4-est-1m/in.pcap -f perf/pktgen/pcap-replay.lua
--
-- pktgen 23.03 loads the whole file into a mempool of its own per TX queue
-- (one mbuf per packet, ~0.38 GB of hugepages per million 64-byte packets) and
-- sends those mbufs in turn: the flows are exactly the file's.
-- The frames keep kgw-gen's MACs (to 02:00:00:00:00:01 from 02:00:00:00:00:02)
-- unless run-pcap.sh --dmac/--smac rewrote them.
--
-- Every parameter below can be overridden from the environment as KGW_<NAME>.
local cfg = {
  label = "pcap",
  tx_port = 0, -- the port given the pcap with -s 0:FILE
  rx_port = 1, -- the port kgw's p1 sends to
  rates = "100",
  warmup = 3, -- established flows: kgw creates the connections on the first pass
  seconds = 10,
  pause = 2,
  frame_bytes = 64, -- average frame bytes with FCS, for the line-rate figure (IMIX 353.83)
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
