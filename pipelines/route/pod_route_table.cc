#include "pipelines/route/pod_route_table.h"

#include <rte_fib.h>
#include <rte_fib6.h>

#include <cstring>

#include "pipelines/common/checksum.h"

namespace kgw {

const pod_node* pod_route_lookup(const pod_route_table& t, uint8_t family, const uint8_t* dst) {
  uint64_t node = pod_route_none;
  if (family == 4) {
    if (!t.fib4) return nullptr;
    uint32_t ip = load_be32(dst);
    rte_fib_lookup_bulk(t.fib4, &ip, &node, 1);
  } else {
    if (!t.fib6) return nullptr;
    uint8_t ip[1][RTE_FIB6_IPV6_ADDR_SIZE];
    std::memcpy(ip[0], dst, 16);
    rte_fib6_lookup_bulk(t.fib6, ip, &node, 1);
  }
  return node < t.list->n_nodes ? &t.list->nodes[node] : nullptr;
}

}  // namespace kgw
