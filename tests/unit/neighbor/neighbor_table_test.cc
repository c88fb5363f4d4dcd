// The neighbour table's index and the hops connections cache into it.
#include "pipelines/neighbor/neighbor_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "pipelines/common/net_types.h"
#include "pipelines/route/nexthop.h"

namespace kgw {
namespace {

// Decimal digits make a valid group of up to four hex digits.
std::string fmt_v6(uint32_t i) { return "2001:db8::" + std::to_string(i); }

void put(nexthop_table& t, uint32_t slot, const std::string& ip) {
  neighbor_entry& e = t.neighbors[slot];
  ip_addr a = *parse_ip(ip);
  e.family = a.family;
  std::memcpy(e.ip, a.b.data(), 16);
  t.n_neighbors = std::max(t.n_neighbors, slot + 1);
}

TEST(NeighborTable, IndexFindsEveryEntryOfAFullTable) {
  auto t = std::make_unique<nexthop_table>();
  for (uint32_t i = 0; i < max_neighbors; ++i)
    put(*t, i, i % 2 ? fmt_v6(i) : "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1");
  nexthop_reindex(*t);
  for (uint32_t i = 0; i < max_neighbors; ++i) {
    ip_addr a = *parse_ip(i % 2 ? fmt_v6(i) : "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1");
    ASSERT_EQ(find_neighbor(*t, a.family, a.b.data()), &t->neighbors[i]) << i;
  }
  ip_addr none = *parse_ip("10.9.9.9");
  EXPECT_EQ(find_neighbor(*t, 4, none.b.data()), nullptr);
  // The same bytes in the other family are another address.
  ip_addr v4 = *parse_ip("10.0.0.1");
  EXPECT_EQ(find_neighbor(*t, 6, v4.b.data()), nullptr);
}

TEST(NeighborTable, AHopDiesWhenItsSlotIsFreedOrGivenToAnotherAddress) {
  auto t = std::make_unique<nexthop_table>();
  put(*t, 0, "198.19.1.11");
  put(*t, 1, "198.19.1.12");
  nexthop_reindex(*t);
  uint16_t hop = nexthop_hop(*t, t->neighbors[1]);
  EXPECT_EQ(hop, 2) << "slot 1 + 1, epoch 0";
  EXPECT_EQ(nexthop_at_hop(*t, hop), &t->neighbors[1]);
  EXPECT_EQ(nexthop_at_hop(*t, 0), nullptr) << "no hop cached";
  EXPECT_EQ(nexthop_at_hop(*t, 3), nullptr) << "beyond the slots in use";
  t->neighbors[1].family = 0;  // freed
  EXPECT_EQ(nexthop_at_hop(*t, hop), nullptr);
  put(*t, 1, "198.19.1.99");
  t->neighbors[1].epoch = 1;  // what the resolver does when it gives the slot away
  EXPECT_EQ(nexthop_at_hop(*t, hop), nullptr) << "another address now";
  EXPECT_EQ(nexthop_at_hop(*t, nexthop_hop(*t, t->neighbors[1])), &t->neighbors[1]);
}

TEST(NeighborTable, OnLinkDestinationIsItsOwnNextHop) {
  auto t = std::make_unique<nexthop_table>();
  route_entry& net = t->routes[t->n_routes++];
  net.family = 4;
  net.len = 24;
  net.onlink = 1;
  std::memcpy(net.prefix, parse_ip("198.19.1.0")->b.data(), 4);
  net.port = 1;
  route_entry& dflt = t->routes[t->n_routes++];
  dflt.family = 4;
  std::memcpy(dflt.via, parse_ip("198.18.0.254")->b.data(), 4);
  dflt.port = 0;
  nexthop_reindex(*t);
  ip_addr pod = *parse_ip("198.19.1.11"), far = *parse_ip("8.8.8.8");
  nexthop h = nexthop_resolve(*t, 4, pod.b.data());
  EXPECT_TRUE(h.found);
  EXPECT_EQ(h.entry, nullptr) << "still to be resolved";
  EXPECT_EQ(h.port, 1);
  EXPECT_EQ(std::memcmp(h.addr, pod.b.data(), 4), 0);
  h = nexthop_resolve(*t, 4, far.b.data());
  EXPECT_TRUE(h.found);
  EXPECT_EQ(h.port, 0);
  EXPECT_EQ(std::memcmp(h.addr, parse_ip("198.18.0.254")->b.data(), 4), 0) << "the gateway";
  put(*t, 0, "198.18.0.254");
  t->neighbors[0].port = 0;
  nexthop_reindex(*t);
  EXPECT_EQ(nexthop_resolve(*t, 4, far.b.data()).entry, &t->neighbors[0]);
  EXPECT_FALSE(nexthop_resolve(*t, 6, parse_ip("2001:db8::1")->b.data()).found) << "nowhere";
}

// route_covers against a bit at a time, every prefix length of both
// families, addresses that differ from the prefix in one bit each.
TEST(NeighborTable, RouteCoversExactlyThePrefixBits) {
  auto bit = [](const uint8_t* a, unsigned i) { return (a[i / 8] >> (7 - i % 8)) & 1; };
  ip_addr v4 = *parse_ip("198.19.170.85"), v6 = *parse_ip("2001:db8:aaaa:5555:f0f0:0f0f:1234:5678");
  for (const ip_addr& base : {v4, v6}) {
    unsigned bits = base.family == 4 ? 32 : 128;
    for (unsigned len = 0; len <= bits; ++len) {
      route_entry r{};
      r.family = base.family;
      r.len = static_cast<uint8_t>(len);
      std::memcpy(r.prefix, base.b.data(), 16);
      for (unsigned flip = 0; flip < bits; ++flip) {
        ip_addr a = base;
        a.b[flip / 8] ^= static_cast<uint8_t>(0x80 >> (flip % 8));
        bool want = true;
        for (unsigned i = 0; i < len; ++i) want = want && bit(a.b.data(), i) == bit(base.b.data(), i);
        ASSERT_EQ(route_covers(r, a.b.data()), want) << "family " << int(base.family) << " /" << len << " bit " << flip;
      }
      ASSERT_TRUE(route_covers(r, base.b.data()));
    }
  }
}

}  // namespace
}  // namespace kgw
