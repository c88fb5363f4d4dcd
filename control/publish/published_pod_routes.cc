#include "control/publish/published_pod_routes.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <cstring>

namespace kgw {

namespace {

void fill_node(pod_node& out, const parsed_node& n) {
  std::snprintf(out.name, sizeof out.name, "%s", n.name.c_str());
  if (n.address4) {
    out.has_v4 = 1;
    std::memcpy(out.addr4, n.address4->b.data(), 4);
  }
  if (n.address6) {
    out.has_v6 = 1;
    std::memcpy(out.addr6, n.address6->b.data(), 16);
  }
  if (n.vtep_mac) {
    out.has_vtep_mac = 1;
    std::memcpy(out.vtep_mac, n.vtep_mac->b.data(), 6);
  }
  if (n.vtep_mac6) {
    out.has_vtep_mac6 = 1;
    std::memcpy(out.vtep_mac6, n.vtep_mac6->b.data(), 6);
  }
}

}  // namespace

pod_route_list* build_pod_route_list(const pod_network_model& m, std::string& error) {
  if (m.nodes.size() > max_pod_nodes || m.n_cidrs > max_pod_cidrs) {
    error = fmt::format("pod routes: {} Nodes with {} pod CIDRs, kgw holds at most {} and {}", m.nodes.size(),
                        m.n_cidrs, max_pod_nodes, max_pod_cidrs);
    return nullptr;
  }
  auto* l = static_cast<pod_route_list*>(rte_zmalloc("kgw_pod_route_list", sizeof(pod_route_list), 64));
  if (!l) {
    error = fmt::format("pod routes: cannot allocate {} bytes of shared memory", sizeof(pod_route_list));
    return nullptr;
  }
  new (l) pod_route_list{};
  for (const parsed_node* n : m.nodes) {
    const auto index = static_cast<uint16_t>(l->n_nodes++);
    fill_node(l->nodes[index], *n);
    for (const auto& [p, line] : n->pod_cidrs) {
      pod_cidr& c = l->cidrs[l->n_cidrs++];
      c.family = p.addr.family;
      c.len = p.len;
      c.node = index;
      std::memcpy(c.prefix, p.addr.b.data(), 16);
    }
  }
  return l;
}

bool same_pod_routes(const pod_route_list* a, const pod_route_list* b) {
  if (!a || !b) return a == b;
  return a->n_nodes == b->n_nodes && a->n_cidrs == b->n_cidrs &&
         std::memcmp(a->nodes, b->nodes, a->n_nodes * sizeof(pod_node)) == 0 &&
         std::memcmp(a->cidrs, b->cidrs, a->n_cidrs * sizeof(pod_cidr)) == 0;
}

void free_pod_route_list(pod_route_list* l) { rte_free(l); }

}  // namespace kgw
