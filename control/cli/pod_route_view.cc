#include "control/cli/pod_route_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "pipelines/common/net_types.h"
#include "pipelines/route/pod_routes.h"

namespace kgw {

namespace {

// A private copy of the list the dataplane routes by now: it is freed a
// grace period and two seconds after it is replaced, so a copy that saw the
// same list and generation before and after is whole.
std::unique_ptr<pod_route_list> copy_pod_routes(const shared_state& s) {
  auto copy = std::make_unique<pod_route_list>();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const pod_route_list* l = __atomic_load_n(&s.pod_routes, __ATOMIC_ACQUIRE);
    if (!l) return nullptr;
    uint64_t gen = __atomic_load_n(&l->generation, __ATOMIC_ACQUIRE);
    std::memcpy(static_cast<void*>(copy.get()), l, sizeof(pod_route_list));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const bool same = __atomic_load_n(&s.pod_routes, __ATOMIC_ACQUIRE) == l &&
                      __atomic_load_n(&l->generation, __ATOMIC_ACQUIRE) == gen;
    if (same && pod_route_list_valid(*copy))
      return copy;
  }
  return nullptr;
}

std::string node_address(uint8_t has, uint8_t family, const uint8_t* a) {
  return has ? to_string(ip_from_bytes(family, a)) : "-";
}

std::string vtep_mac(uint8_t has, const uint8_t* b) {
  if (!has) return "-";
  mac_addr mac;
  std::memcpy(mac.b.data(), b, 6);
  return to_string(mac);
}

}  // namespace

std::string format_pod_routes(const shared_state& s) {
  auto l = copy_pod_routes(s);
  if (!l) return "no pod routes (no Node with a pod CIDR published)\n";
  std::string out = fmt::format("pod routes: generation {}, {} Nodes, {} pod CIDRs\n", l->generation, l->n_nodes,
                                l->n_cidrs);
  out += fmt::format("{:<43} {:<24} {:<15} {:<39} {:<17} {}\n", "CIDR", "NODE", "ADDRESS", "ADDRESS6", "VTEP-MAC",
                     "VTEP-MAC6");
  for (uint32_t i = 0; i < l->n_cidrs; ++i) {
    const pod_cidr& c = l->cidrs[i];
    const pod_node& n = l->nodes[c.node];
    ip_prefix p{ip_from_bytes(c.family, c.prefix), c.len};
    out += fmt::format("{:<43} {:<24} {:<15} {:<39} {:<17} {}\n", to_string(p),
                       std::string(n.name, strnlen(n.name, sizeof n.name)), node_address(n.has_v4, 4, n.addr4),
                       node_address(n.has_v6, 6, n.addr6), vtep_mac(n.has_vtep_mac, n.vtep_mac),
                       vtep_mac(n.has_vtep_mac6, n.vtep_mac6));
  }
  return out;
}

}  // namespace kgw
