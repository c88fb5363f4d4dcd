// Stage: NAT of the packets of tracked connections. A packet of direction d
// leaves looking like the reverse of the connection's other key: DNAT towards
// the endpoint, SNAT or un-DNAT on the way back, with incremental checksums;
// a SYN towards the endpoint has its MSS clamped. An ICMP error about a
// connection is translated whole (quoted packet and outer header) back to the
// side that sent the quoted packet. The packet's verdict becomes tx; route
// picks the next hop.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/lb/lb_counter_area.h"

struct rte_mbuf;

namespace kgw {

struct nat_lcore {
  uint16_t mss = 1460;              // clamp for SYNs towards endpoints; 0 = leave alone
  const lb_slots* counted = nullptr;  // the lb stage's row of Service port and endpoint counters
  // Every port this worker sends on computes SCTP's CRC32c (the NIC profile's
  // TX offload sctp-cksum, granted): a rewritten SCTP packet is marked
  // RTE_MBUF_F_TX_SCTP_CKSUM instead of having it computed here.
  bool sctp_crc_offload = false;
};

void nat_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nat_lcore& s, const conn_table& conns,
               lcore_counters& c);

}  // namespace kgw
