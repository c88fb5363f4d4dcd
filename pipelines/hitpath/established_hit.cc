#include "pipelines/hitpath/established_hit.h"

#include <rte_mbuf.h>

#include "pipelines/common/protocols.h"
#include "pipelines/conntrack/conntrack_passes.h"
#include "pipelines/route/route_stage.h"

namespace kgw {

namespace {

// What lb, fragment and nat do nothing special with: not a fragment (the
// fragment stage remembers first fragments), TCP or UDP (nat's delta
// rewrite), no SYN (nat clamps a SYN's MSS), a Service connection (nat leaves
// routed pod-to-pod ones to pod routing), not due for a policy verdict (lb).
bool plain(const pkt_meta& m, const conn& cn, const lb_lcore& lb) {
  const bool l4 = m.l4_proto == ipproto_tcp ? !(m.tcp_flags & tcp_syn) : m.l4_proto == ipproto_udp;
  return l4 && !m.frag && cn.service != conn_routed_service && !lb_policy_stale(lb, cn);
}

}  // namespace

uint32_t established_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& ct,
                           const conn_removal& gone, lcore_counters& c, const lb_lcore& lb, const nat_lcore& nat,
                           const nexthop_table* t, neighbor_lcore& nb) {
  if (!t) {
    conntrack_burst(pkts, meta, n, ct, gone, c);
    return 0;
  }
  const conn_table& conns = *ct.table;
  return conntrack_detail::track_burst(pkts, meta, n, ct, gone, c, [&](unsigned i, uint8_t* frame) {
    pkt_meta& m = meta[i];
    const conn& cn = conns.at(m.conn);
    if (!plain(m, cn, lb)) return false;
    // The hop first: a packet whose hop route would look up again is left
    // untouched for the stages.
    const neighbor_entry* e = route_cached_hop(*t, cn, m.dir);
    if (!e) return false;
    nat_translate_tracked(frame, m, cn);
    nat_count(nat, cn, m);
    route_send(frame, m, *t, *e, nb);
    return true;
  });
}

}  // namespace kgw
