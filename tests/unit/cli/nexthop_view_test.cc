// show neighbors / show routes over a next-hop table built by hand.
#include "control/cli/nexthop_view.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "pipelines/route/nexthop.h"

namespace kgw {
namespace {

TEST(NexthopView, NeighborsAndRoutesLongestFirstWithResolution) {
  auto st = std::make_unique<shared_state>();
  std::memset(st.get(), 0, sizeof *st);
  EXPECT_NE(format_routes(*st).find("no next-hop table"), std::string::npos);

  auto t = std::make_unique<nexthop_table>();
  st->n_ports = 1;
  std::strcpy(st->ports[0].name, "p1");
  st->ports[0].port_id = 3;
  neighbor_entry& n = t->neighbors[t->n_neighbors++];
  n.family = 4;
  const uint8_t ip[4] = {198, 18, 1, 2}, mac[6] = {2, 0, 0, 0, 1, 2};
  std::memcpy(n.ip, ip, 4);
  std::memcpy(n.mac, mac, 6);
  n.port = 3;
  auto add_route = [&](uint8_t len, uint8_t a, const uint8_t* via) {
    route_entry& r = t->routes[t->n_routes++];
    r.family = 4;
    r.len = len;
    r.prefix[0] = a;
    std::memcpy(r.via, via, 4);
    r.port = 3;
  };
  const uint8_t nowhere[4] = {198, 18, 9, 9};
  add_route(0, 0, ip);
  add_route(17, 198, nowhere);
  st->nexthops = t.get();

  std::string nb = format_neighbors(*st);
  EXPECT_NE(nb.find("198.18.1.2"), std::string::npos) << nb;
  EXPECT_NE(nb.find("02:00:00:00:01:02"), std::string::npos) << nb;
  EXPECT_NE(nb.find("p1 (3)"), std::string::npos) << nb;

  std::string rt = format_routes(*st);
  size_t longer = rt.find("198.0.0.0/17"), dflt = rt.find("0.0.0.0/0");
  ASSERT_NE(longer, std::string::npos) << rt;
  ASSERT_NE(dflt, std::string::npos) << rt;
  EXPECT_LT(longer, dflt) << rt;
  EXPECT_NE(rt.find("unresolved"), std::string::npos) << rt;  // 198.18.9.9 has no neighbour
  EXPECT_NE(rt.find("02:00:00:00:01:02 on p1 (3)"), std::string::npos) << rt;
}

}  // namespace
}  // namespace kgw
