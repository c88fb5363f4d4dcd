// Stage: conntrack, and in its lookup pass the rest of the way of an
// established connection's plain packet, right after the packet's lookup
// (its metadata, frame and connection at hand: no loop of its own). A plain
// hit is a TCP segment without SYN or a UDP datagram, not a fragment, of a
// Service connection NetworkPolicy need not classify again, whose
// direction's next hop is cached, still valid and has a MAC: what lb,
// fragment, nat and route would do with it is already known (lb and fragment
// nothing; nat the rewrite by the connection's deltas and the Service port's
// and endpoint's counts; route the cached neighbour). It is done here and the
// packet leaves with verdict tx, so the worker skips those stages' loops for
// it, or the stages whole when the burst is all plain hits (issue 17: five
// loops over the burst each testing the verdict cost more than the work).
// Any other packet is left as conntrack_burst leaves it, for the stages as
// before.
//
// The same results in the same counters as the stages give: this stage calls
// their own pieces (nat_translate_tracked, nat_count, route_cached_hop,
// route_send, lb_policy_stale), and only for packets they would treat alike.
// The packets it takes never change what the stages do with the others: lb
// evicts and reopens no connection seen at this burst's time, and a plain
// hit's connection is not one lb classifies again. Whether NetworkPolicy is
// due is asked of the rules the burst started with (lb_use_policy): lb may
// load newer ones midway, to let a new flow through (lb_reload_policy); a
// plain hit then goes under the rules before, as the packets ahead of that
// flow in the burst do, and the change reaches its connection with the next
// burst.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/lb/lb_stage.h"
#include "pipelines/nat/nat_stage.h"
#include "pipelines/neighbor/neighbor_lcore.h"
#include "pipelines/route/nexthop.h"

struct rte_mbuf;

namespace kgw {

// conntrack_burst (the arguments up to `c` are its), sending on the plain hits
// as it finds them; returns them (bit i: meta[i], done, verdict tx). `t`
// nullptr (no next hops): none is plain.
uint32_t established_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& ct,
                           const conn_removal& gone, lcore_counters& c, const lb_lcore& lb, const nat_lcore& nat,
                           const nexthop_table* t, neighbor_lcore& nb);

}  // namespace kgw
