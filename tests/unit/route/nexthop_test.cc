// The next-hop table: a neighbour for the address itself first, else the
// gateway of the longest matching route, per family.
#include "pipelines/route/nexthop.h"

#include <gtest/gtest.h>

#include <memory>

#include "pipelines/common/net_types.h"

namespace kgw {
namespace {

void add_neighbor(nexthop_table& t, const char* ip, uint16_t port) {
  neighbor_entry& e = t.neighbors[t.n_neighbors++];
  ip_addr a = *parse_ip(ip);
  e.family = a.family;
  std::memcpy(e.ip, a.b.data(), 16);
  e.port = port;
  nexthop_reindex(t);
}

void add_route(nexthop_table& t, const char* prefix, const char* via, uint16_t port) {
  route_entry& r = t.routes[t.n_routes++];
  ip_prefix p = *parse_prefix(prefix);
  r.family = p.addr.family;
  r.len = p.len;
  std::memcpy(r.prefix, p.addr.b.data(), 16);
  std::memcpy(r.via, parse_ip(via)->b.data(), 16);
  r.port = port;
}

// The neighbour chosen for `dst`, as its index, or -1.
int hop(const nexthop_table& t, const char* dst) {
  ip_addr a = *parse_ip(dst);
  const neighbor_entry* n = nexthop_lookup(t, a.family, a.b.data());
  return n ? static_cast<int>(n - t.neighbors) : -1;
}

TEST(Nexthop, NeighbourFirstThenLongestPrefix) {
  auto t = std::make_unique<nexthop_table>();
  add_neighbor(*t, "198.18.0.2", 0);      // 0
  add_neighbor(*t, "198.18.1.2", 1);      // 1
  add_neighbor(*t, "198.18.1.3", 1);      // 2
  add_neighbor(*t, "2001:2::1:2", 1);     // 3
  add_route(*t, "198.19.0.0/16", "198.18.1.2", 1);
  add_route(*t, "198.19.1.0/25", "198.18.1.3", 1);
  add_route(*t, "2001:2::10:0:0/96", "2001:2::1:2", 1);
  EXPECT_EQ(hop(*t, "198.18.0.2"), 0) << "a neighbour itself";
  EXPECT_EQ(hop(*t, "198.19.2.9"), 1) << "/16";
  EXPECT_EQ(hop(*t, "198.19.1.9"), 2) << "/25 is longer";
  EXPECT_EQ(hop(*t, "198.19.1.200"), 1) << "outside the /25";
  EXPECT_EQ(hop(*t, "2001:2::10:0:5"), 3);
  EXPECT_EQ(hop(*t, "198.20.0.1"), -1);
  EXPECT_EQ(hop(*t, "2001:3::1"), -1);
  add_route(*t, "10.0.0.0/8", "10.0.0.1", 0);  // a gateway with no neighbour entry
  EXPECT_EQ(hop(*t, "10.1.1.1"), -1);
}

}  // namespace
}  // namespace kgw
