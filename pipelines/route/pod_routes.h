// The pod network as control publishes it: the Nodes of the manifests, each
// with its addresses and VXLAN endpoint, and every pod CIDR with the Node
// that owns it. Plain data in shared memory (no pointers): the dataplane's
// main lcore builds its longest-prefix-match tries (pod_route_table.h) from
// it in its own process, and the CLI reads it as it is.
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr uint64_t pod_route_list_magic = 0x6b67772d706f6473ull;  // "kgw-pods"
inline constexpr unsigned max_pod_nodes = 512;
inline constexpr unsigned max_pod_cidrs = 1024;

struct pod_node {
  char name[64];
  uint8_t has_v4 = 0, has_v6 = 0;
  uint8_t has_vtep_mac = 0;   // the Node names its VXLAN endpoint's MAC (flannel backend-data, kgw.io/vtep-mac)
  uint8_t has_vtep_mac6 = 0;  // and its IPv6 VXLAN endpoint's (flannel backend-v6-data): an IPv6 underlay
  uint8_t addr4[4] = {};      // InternalIP (or the VTEP address) of each family: the next hop of its pods
  uint8_t addr6[16] = {};
  uint8_t vtep_mac[6] = {};
  uint8_t vtep_mac6[6] = {};  // the MAC of its IPv6 VTEP (Flannel's flannel-v6.1), reached at addr6
  uint8_t pad[4] = {};
};

struct pod_cidr {
  uint8_t family;  // 4 or 6
  uint8_t len;
  uint16_t node;   // index into pod_route_list::nodes
  uint8_t prefix[16];
};

struct pod_route_list {
  uint64_t magic = pod_route_list_magic;
  uint64_t generation = 0;  // set by the dataplane when it takes the list
  uint32_t n_nodes = 0;
  uint32_t n_cidrs = 0;
  pod_node nodes[max_pod_nodes];
  pod_cidr cidrs[max_pod_cidrs];
};

// Counts the node indexes and prefix lengths of `l` before anything trusts them.
inline bool pod_route_list_valid(const pod_route_list& l) {
  if (l.magic != pod_route_list_magic || l.n_nodes > max_pod_nodes || l.n_cidrs > max_pod_cidrs) return false;
  for (uint32_t i = 0; i < l.n_cidrs; ++i) {
    const pod_cidr& c = l.cidrs[i];
    if (c.node >= l.n_nodes || !(c.family == 4 ? c.len <= 32 : c.family == 6 && c.len <= 128)) return false;
  }
  return true;
}

}  // namespace kgw
