// Stage 1: parse Ethernet / 802.1Q / ARP / IPv4 / IPv6 (+ extension headers) /
// TCP / UDP / ICMP / ICMPv6. Never trusts a length field: every malformed case
// becomes a drop with its own reason.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"

struct rte_mbuf;

namespace kgw {

// Parses one frame of `len` contiguous bytes. On success fills `m` and returns
// true; on malformed input sets m.v = drop with the reason and returns false.
bool parse_frame(const uint8_t* frame, uint32_t len, pkt_meta& m);

// The stage over a burst: parses the first segment of each mbuf; packets whose
// headers do not fit in the first segment are dropped (multiseg_unsupported).
// Counts drops into c.drops.
void parse_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, lcore_counters& c);

}  // namespace kgw
