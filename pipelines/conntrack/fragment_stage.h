// Stage: fragments of tracked datagrams, after lb (pipelines/conntrack/frag_table.h).
// A first fragment that found or opened a connection, or that lb handed to
// the worker owning it, is remembered; a later fragment of the same datagram
// takes that connection and direction (nat translates its addresses, route
// sends it the same way) or the same hand-off. In burst order, so a
// datagram's fragments in one burst follow their first too.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conntrack_stage.h"

struct rte_mbuf;

namespace kgw {

void fragment_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s, lcore_counters& c);

// A fragment without the L4 header: conntrack and lb leave it to this stage.
inline bool later_fragment(const pkt_meta& m) { return m.frag && !(m.frag & frag_first); }

}  // namespace kgw
