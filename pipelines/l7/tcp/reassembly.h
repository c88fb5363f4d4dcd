// The receive side's queues: in-order data for the application and the
// out-of-order segments waiting for a hole to fill (RFC 9293 3.10.7.4,
// seventh step). Segments sit one mbuf each, the out-of-order ones sorted
// and disjoint with their first sequence number in hash.usr.
#pragma once

#include <cstdint>

#include "pipelines/l7/tcp/tcb.h"

struct rte_mbuf;

namespace kgw::tcp {

// Appends in-order segments (a chain) to the receive queue. Small segments
// are copied into the tail mbuf's free room when it has some, so that many
// tiny segments do not pin many 2 KiB buffers.
void rcvq_append(tcb& t, rte_mbuf* chain);
// Adds the segments of `chain` (first byte at `seq`) to the out-of-order
// queue. Bytes already held are dropped from the new segment (the older copy
// stays); a new segment that would straddle an old one keeps only its part
// before it. Returns false, freeing the chain, when max_segs would be passed.
bool ooo_insert(tcb& t, rte_mbuf* chain, uint32_t seq, uint32_t max_segs);
// Moves what the out-of-order queue holds at rcv_nxt to the receive queue,
// advancing rcv_nxt; returns the bytes moved.
uint32_t ooo_pull(tcb& t);

}  // namespace kgw::tcp
