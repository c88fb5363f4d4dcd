#include "control/cli/nexthop_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/route/nexthop.h"

namespace kgw {

namespace {

std::string ip_text(uint8_t family, const uint8_t* a) { return to_string(ip_from_bytes(family, a)); }

std::string mac_text(const uint8_t* m) {
  mac_addr a;
  std::memcpy(a.b.data(), m, 6);
  return to_string(a);
}

std::string port_text(const shared_state& s, uint16_t port) {
  for (unsigned i = 0; i < s.n_ports && i < max_ports; ++i)
    if (s.ports[i].port_id == port) return fmt::format("{} ({})", s.ports[i].name, port);
  return fmt::format("{}", port);
}

}  // namespace

std::string format_neighbors(const shared_state& s) {
  const nexthop_table* t = s.nexthops;
  if (!t) return "no next-hop table (the dataplane has not built it yet)\n";
  std::string out = fmt::format("{} neighbor(s), static from {}\n", t->n_neighbors, s.config_file);
  out += fmt::format("  {:<40} {:<18} {}\n", "address", "mac", "port");
  for (uint32_t i = 0; i < t->n_neighbors && i < max_neighbors; ++i) {
    const neighbor_entry& n = t->neighbors[i];
    out += fmt::format("  {:<40} {:<18} {}\n", ip_text(n.family, n.ip), mac_text(n.mac), port_text(s, n.port));
  }
  return out;
}

std::string format_routes(const shared_state& s) {
  const nexthop_table* t = s.nexthops;
  if (!t) return "no next-hop table (the dataplane has not built it yet)\n";
  std::vector<const route_entry*> routes;
  for (uint32_t i = 0; i < t->n_routes && i < max_routes; ++i) routes.push_back(&t->routes[i]);
  std::stable_sort(routes.begin(), routes.end(), [](const route_entry* a, const route_entry* b) {
    return a->family != b->family ? a->family < b->family : a->len > b->len;
  });
  std::string out = fmt::format("{} route(s), longest prefix first\n", routes.size());
  out += fmt::format("  {:<44} {:<40} {}\n", "prefix", "via", "resolves to");
  for (const route_entry* r : routes) {
    const neighbor_entry* n = find_neighbor(*t, r->family, r->via);
    std::string to = n ? fmt::format("{} on {}", mac_text(n->mac), port_text(s, n->port))
                       : std::string("unresolved: no neighbor entry for the gateway");
    out += fmt::format("  {:<44} {:<40} {}\n", fmt::format("{}/{}", ip_text(r->family, r->prefix), r->len),
                       ip_text(r->family, r->via), to);
  }
  return out;
}

}  // namespace kgw
