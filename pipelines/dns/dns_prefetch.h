// The table entries a burst's queries will read, brought towards the cache
// before the burst is answered. With many Services the table outgrows the
// caches, and each query walks a chain of dependent loads (the index slot
// holding its node, then the node's name, records and their data) that would
// each miss in turn; in passes over the whole burst, each pass prefetches the
// next link for every query while the previous pass's loads complete. A table that fits in the
// caches is left alone: there the passes would only add instructions.
#pragma once

#include <cstdint>

#include "pipelines/common/pkt_meta.h"
#include "pipelines/dns/dns_table.h"

struct rte_mbuf;

namespace kgw::dns {

// Below this size a table stays cached between bursts (a core's L2).
inline constexpr uint64_t prefetch_min_table_bytes = 1u << 20;

// The node a lookup of a name with hash `h` most likely ends on: the first
// with that hash among the four index slots from its home slot, or nullptr.
// A wrong guess only costs a prefetch.
const node_entry* likely_node(const table& t, uint32_t h);

// Prefetches for `n` DNS messages (UDP payloads, any content: one that does
// not parse is passed over). Reads only.
void prefetch_queries(const uint8_t* const* msgs, const uint32_t* lens, uint32_t n, const table& t);

// The stage's call: the UDP datagrams to port 53 among the burst's pending
// packets, when the table is large enough to need it.
void prefetch_burst(rte_mbuf* const* pkts, const pkt_meta* meta, uint16_t n, const table* t);

}  // namespace kgw::dns
