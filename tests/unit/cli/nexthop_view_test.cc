// show neighbors / show routes over a next-hop table built by hand.
#include "control/cli/nexthop_view.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "pipelines/route/nexthop.h"

namespace kgw {
namespace {

TEST(NexthopView, NeighborsOneLinePerEntryAndRoutesLongestFirst) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  EXPECT_NE(format_routes(*st).find("no next-hop table"), std::string::npos);

  auto t = std::make_unique<nexthop_table>();
  st->n_ports = 1;
  std::strcpy(st->ports[0].name, "p1");
  st->ports[0].port_id = 3;
  const uint8_t ip[4] = {198, 18, 1, 2}, mac[6] = {2, 0, 0, 0, 1, 2}, pod[4] = {198, 19, 1, 11};
  neighbor_entry& n = t->neighbors[t->n_neighbors++];  // static: changed at 1 s
  n.family = 4;
  std::memcpy(n.ip, ip, 4);
  std::memcpy(n.mac, mac, 6);
  n.port = 3;
  n.changed_ns = 1'000'000'000;
  neighbor_entry& l = t->neighbors[t->n_neighbors++];  // learnt, being resolved since 5 s
  l.family = 4;
  std::memcpy(l.ip, pod, 4);
  l.port = 3;
  l.state = neighbor_state::incomplete;
  l.changed_ns = 5'000'000'000;
  t->n_neighbors++;  // a free slot: not shown
  auto add_route = [&](uint8_t len, uint8_t a, const uint8_t* via, bool onlink) {
    route_entry& r = t->routes[t->n_routes++];
    r.family = 4;
    r.len = len;
    r.onlink = onlink;
    r.prefix[0] = a;
    if (via) std::memcpy(r.via, via, 4);
    r.port = 3;
  };
  const uint8_t nowhere[4] = {198, 18, 9, 9};
  add_route(0, 0, ip, false);
  add_route(17, 198, nowhere, false);
  add_route(24, 198, nullptr, true);
  nexthop_reindex(*t);
  st->nexthops = t.get();

  std::string nb = format_neighbors(*st, *t, 12'500'000'000);
  // One line per entry, six fields: IP MAC PORT STATE AGE SOURCE.
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(nb);
  for (std::string text; std::getline(lines, text);) {
    std::istringstream fields(text);
    rows.emplace_back();
    for (std::string f; fields >> f;) rows.back().push_back(f);
  }
  ASSERT_EQ(rows.size(), 2u) << nb;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"198.18.1.2", "02:00:00:00:01:02", "p1", "REACHABLE", "11", "static"}))
      << nb;
  EXPECT_EQ(rows[1], (std::vector<std::string>{"198.19.1.11", "-", "p1", "INCOMPLETE", "7", "learned"})) << nb;

  std::string rt = format_routes(*st);
  size_t onlink = rt.find("198.0.0.0/24"), longer = rt.find("198.0.0.0/17"), dflt = rt.find("0.0.0.0/0");
  ASSERT_NE(longer, std::string::npos) << rt;
  ASSERT_NE(dflt, std::string::npos) << rt;
  ASSERT_NE(onlink, std::string::npos) << rt;
  EXPECT_LT(onlink, longer) << rt;
  EXPECT_LT(longer, dflt) << rt;
  EXPECT_NE(rt.find("unresolved (no entry)"), std::string::npos) << rt;  // 198.18.9.9 has no neighbour
  EXPECT_NE(rt.find("02:00:00:00:01:02 on p1 (REACHABLE)"), std::string::npos) << rt;
  EXPECT_NE(rt.find("on-link"), std::string::npos) << rt;
}

}  // namespace
}  // namespace kgw
