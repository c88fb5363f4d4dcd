#include "control/cli/nexthop_view.h"

#include <rte_cycles.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/common/tick_clock.h"

namespace kgw {

namespace {

std::string ip_text(uint8_t family, const uint8_t* a) { return to_string(ip_from_bytes(family, a)); }

std::string mac_text(const uint8_t* m) {
  mac_addr a;
  std::memcpy(a.b.data(), m, 6);
  return to_string(a);
}

std::string port_name(const shared_state& s, uint16_t port) {
  for (unsigned i = 0; i < s.n_ports && i < max_ports; ++i)
    if (s.ports[i].port_id == port && s.ports[i].name[0]) return s.ports[i].name;
  return fmt::format("{}", port);
}

}  // namespace

std::unique_ptr<nexthop_table> copy_nexthops(const shared_state& s) {
  auto copy = std::make_unique<nexthop_table>();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const nexthop_table* t = __atomic_load_n(&s.nexthops, __ATOMIC_ACQUIRE);
    if (!t) return nullptr;
    uint64_t gen = __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);
    std::memcpy(static_cast<void*>(copy.get()), t, sizeof(nexthop_table));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    // Still the published table, same generation: nobody freed it under the copy.
    if (gen != 0 && __atomic_load_n(&s.nexthops, __ATOMIC_ACQUIRE) == t &&
        __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE) == gen) {
      copy->n_neighbors = std::min<uint32_t>(copy->n_neighbors, max_neighbors);
      copy->n_routes = std::min<uint32_t>(copy->n_routes, max_routes);
      return copy;
    }
  }
  return nullptr;
}

std::string format_neighbors(const shared_state& s, const nexthop_table& t, uint64_t now_ns) {
  std::string out;
  for (uint32_t i = 0; i < t.n_neighbors; ++i) {
    const neighbor_entry& n = t.neighbors[i];
    if (n.family == 0) continue;
    uint64_t age = now_ns > n.changed_ns ? (now_ns - n.changed_ns) / 1'000'000'000 : 0;
    out += fmt::format("{:<39} {:<17} {:<8} {:<10} {:>6} {}\n", ip_text(n.family, n.ip),
                       neighbor_has_mac(n) ? mac_text(n.mac) : "-", port_name(s, n.port), neighbor_state_name(n.state),
                       age, n.state == neighbor_state::permanent ? "static" : "learned");
  }
  return out;
}

std::string format_neighbors(const shared_state& s) {
  auto t = copy_nexthops(s);
  if (!t) return "no next-hop table (the dataplane has not built it yet)\n";
  return format_neighbors(s, *t, tick_clock::of_hz(s.tsc_hz).to_ns(rte_get_tsc_cycles()));
}

std::string format_routes(const shared_state& s) {
  auto t = copy_nexthops(s);
  if (!t) return "no next-hop table (the dataplane has not built it yet)\n";
  std::vector<const route_entry*> routes;
  for (uint32_t i = 0; i < t->n_routes; ++i) routes.push_back(&t->routes[i]);
  std::stable_sort(routes.begin(), routes.end(), [](const route_entry* a, const route_entry* b) {
    return a->family != b->family ? a->family < b->family : a->len > b->len;
  });
  std::string out = fmt::format("{} route(s), longest prefix first\n", routes.size());
  out += fmt::format("  {:<44} {:<40} {}\n", "prefix", "via", "resolves to");
  for (const route_entry* r : routes) {
    std::string to, via;
    if (r->onlink) {
      via = "on-link";
      to = fmt::format("each address by ARP/ND on {}", port_name(s, r->port));
    } else {
      via = ip_text(r->family, r->via);
      const neighbor_entry* n = find_neighbor(*t, r->family, r->via);
      to = n && neighbor_has_mac(*n)
               ? fmt::format("{} on {} ({})", mac_text(n->mac), port_name(s, r->port), neighbor_state_name(n->state))
               : fmt::format("unresolved ({}): by ARP/ND on {} at first use", n ? neighbor_state_name(n->state) : "no entry",
                             port_name(s, r->port));
    }
    out += fmt::format("  {:<44} {:<40} {}\n", fmt::format("{}/{}", ip_text(r->family, r->prefix), r->len), via, to);
  }
  return out;
}

}  // namespace kgw
