// The pod routes as the workers read them: an rte_fib (IPv4, DIR-24-8) and
// rte_fib6 (IPv6, trie) over the published pod CIDRs, each answer an index
// into the list's Nodes, 2-byte next hops (32 MiB of first-level table per
// family instead of rte_lpm's 64). Built by the dataplane's main lcore from
// a pod_route_list (dataplane/publish/pod_route_publisher.h) and swapped in
// whole; an rte_fib holds its lookup function's address, so only the
// process that built it (the primary) may look up in it.
#pragma once

#include <cstdint>

#include "pipelines/route/pod_routes.h"

struct rte_fib;
struct rte_fib6;

namespace kgw {

struct pod_route_table {
  const pod_route_list* list = nullptr;
  rte_fib* fib4 = nullptr;    // nullptr: no IPv4 pod CIDR
  rte_fib6* fib6 = nullptr;   // nullptr: no IPv6 pod CIDR
};

// The first-level table of one family's FIB (2^24 two-byte next hops), in MiB.
inline constexpr unsigned pod_route_table_mb = 32;

// The next hop of an address no pod CIDR holds.
inline constexpr uint64_t pod_route_none = max_pod_nodes;

// The Node whose pod CIDR holds `dst` (network order, 4 or 16 bytes) by
// longest prefix, or nullptr.
const pod_node* pod_route_lookup(const pod_route_table& t, uint8_t family, const uint8_t* dst);

}  // namespace kgw
