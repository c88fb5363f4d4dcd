// Stage: fragments of tracked datagrams, after lb (pipelines/conntrack/frag_table.h).
// A first fragment that found or opened a connection, or that lb handed to
// the worker owning it, is remembered; a later fragment of the same datagram
// takes that connection and direction (nat translates its addresses, route
// sends it the same way) or the same hand-off. In burst order, so a
// datagram's fragments in one burst follow their first too.
// A later fragment that comes before its first, to a Service's address or a
// node address, is held for it (frag_hold.h): the stage takes the mbuf
// (verdict consumed), and the datagram's first fragment releases it for the
// worker to run through the pipeline again (fragment_hold_lcore).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/conntrack/frag_hold.h"
#include "pipelines/lb/lb_stage.h"
#include "pipelines/local/local.h"

struct rte_mbuf;

namespace kgw {

// The worker's hold of early fragments.
struct fragment_hold_lcore {
  frag_hold* hold = nullptr;           // nullptr: early fragments are not held
  const local_table* local = nullptr;  // the node addresses (NodePorts); nullptr: none
  // Set while the worker runs the fragments it took from take_released: one
  // that finds no first fragment now is not held again.
  bool releasing = false;
};

void fragment_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s, const lb_lcore& lb,
                    fragment_hold_lcore& h, lcore_counters& c);

// Frees the held fragments whose time is up, counted as fragment_hold_expired
// (the stage does it at each burst; the worker when idle too).
void fragment_hold_expire(fragment_hold_lcore& h, uint64_t now_ns, lcore_counters& c);

// Frees every fragment in the hold, held or released and not yet run,
// counted as fragment_hold_expired: when the worker stops.
void fragment_hold_clear(fragment_hold_lcore& h, lcore_counters& c);

// A fragment without the L4 header: conntrack and lb leave it to this stage.
inline bool later_fragment(const pkt_meta& m) { return m.frag && !(m.frag & frag_first); }

}  // namespace kgw
