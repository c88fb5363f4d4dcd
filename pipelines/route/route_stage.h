// Stage: next hop. A packet that nat translated (verdict tx, a connection in
// its metadata) leaves through the neighbour of its new destination's next
// hop: the connection's cached hop for its direction, else the next-hop
// table's answer, which is then cached. A next hop without a MAC yet sends
// the packet to the resolver (pipelines/neighbor: verdict consumed, it comes
// back once resolved); one that failed to answer drops it (neighbor_failed);
// no next hop at all drops it (no_neighbor).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/neighbor/neighbor_lcore.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/route/pod_route_table.h"

struct rte_mbuf;

namespace kgw {

// Recently used destinations of packets the gateway originates, so that a
// stream of segments to one client does not scan the neighbour and route
// tables each time. Direct-mapped. An entry is a hop into the table it was
// found in: a different table, or a new generation of the same one, empties
// the cache before it is used.
struct origin_route_cache {
  static constexpr unsigned size = 64;
  const nexthop_table* table = nullptr;  // what the entries index, at `generation`
  uint64_t generation = 0;
  struct entry {
    uint8_t family;  // 0: empty
    uint8_t addr[16];
    uint16_t hop;    // neighbor_hop of the entry
  } e[size] = {};
};

// Segments the gateway itself originates (its TCP stack): verdict tx, no
// connection of the conntrack table, Ethernet header space in front of the
// IP header. Each leaves through the neighbour of its IP destination's next
// hop, with the Ethernet header written, or waits for it as above; without
// any next hop it is dropped (no_neighbor), and `no_route` counts it as well,
// unless its destination lies in a Node's pod CIDR of `pods`: it is then left
// pending for pod_forward_originated (pod_forward.h).
void route_originated_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t,
                            origin_route_cache& cache, uint64_t& no_route, neighbor_lcore& nb, lcore_counters& c,
                            const pod_route_table* pods = nullptr);

// One packet to next hop `h` of `t` (family 4 or 6), as nexthop_resolve
// found it: addressed and sent when it has a MAC, queued for the resolver
// when it has none yet, dropped when it failed or there is no next hop at
// all (no_neighbor).
void route_leave(rte_mbuf* mb, pkt_meta& m, const nexthop_table& t, uint8_t family, const nexthop& h,
                 neighbor_lcore& nb, lcore_counters& c);

// `t` may be nullptr (no next hops: every such packet is dropped). A
// translated packet towards an address with no next hop that lies in a
// Node's pod CIDR (`pods`, nullptr: none) is left pending for the pod
// routing stage (a Service's reply to a pod behind a tunnel, an endpoint on
// another Node), which forwards it as it forwards any packet for a pod.
void route_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t, conn_table& conns,
                 neighbor_lcore& nb, lcore_counters& c, const pod_route_table* pods = nullptr);

}  // namespace kgw
