// Stage: next hop. A packet that nat translated (verdict tx, a connection in
// its metadata) leaves through the neighbour of its new destination: the
// connection's cached hop for its direction, else the next-hop table's
// answer, which is then cached. Without one it is dropped (no_neighbor).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/route/nexthop.h"

struct rte_mbuf;

namespace kgw {

// `t` may be nullptr (no next hops: every such packet is dropped).
void route_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t, conn_table& conns,
                 lcore_counters& c);

}  // namespace kgw
