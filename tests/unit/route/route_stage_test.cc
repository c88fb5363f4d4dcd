// route_burst over real mbufs: a translated packet leaves through the
// neighbour of its new destination, cached in its connection per direction;
// none is a drop (no_neighbor); packets without a connection are left as they
// are.
#include "pipelines/route/route_stage.h"

#include <gtest/gtest.h>

#include <memory>

#include "pipelines/common/net_types.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/mbufs.h"

namespace kgw {
namespace {

using namespace kgw::test;

const bytes client_mac = {2, 0, 0, 0, 0, 0x02}, pod_router_mac = {2, 0, 0, 0, 1, 0x02};
const bytes p0_mac = {2, 0, 0, 0, 0, 0xa0}, p1_mac = {2, 0, 0, 0, 0, 0xa1};

// Client 198.18.0.2 on port 0; pods 198.19.0.0/16 behind 198.18.1.2 on port 1.
struct RouteStage : ::testing::Test {
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  conn_table_fixture f{64};
  neighbor_lcore nb;  // no resolver: a next hop without a MAC is a drop
  lcore_counters c{};
  uint32_t id;

  RouteStage() {
    auto neighbor = [&](const char* ip, const bytes& mac, uint16_t port) {
      neighbor_entry& e = nh->neighbors[nh->n_neighbors++];
      e.family = 4;
      std::memcpy(e.ip, parse_ip(ip)->b.data(), 4);
      std::memcpy(e.mac, mac.data(), 6);
      e.port = port;
    };
    neighbor("198.18.0.2", client_mac, 0);
    neighbor("198.18.1.2", pod_router_mac, 1);
    route_entry& r = nh->routes[nh->n_routes++];
    r.family = 4;
    r.len = 16;
    std::memcpy(r.prefix, parse_ip("198.19.0.0")->b.data(), 4);
    std::memcpy(r.via, parse_ip("198.18.1.2")->b.data(), 4);
    r.port = 1;
    std::memcpy(nh->port_mac[0], p0_mac.data(), 6);
    std::memcpy(nh->port_mac[1], p1_mac.data(), 6);
    nexthop_reindex(*nh);
    id = f.insert(key(ip4_client, vip4, 40000, 80, ipproto_tcp), key(pod4, snat4, 8080, 1025, ipproto_tcp),
                  ipproto_tcp, 0x02, 0);
  }

  // A translated packet of the connection in direction `dir`, as nat leaves it.
  pkt_meta translated(const bytes& f, uint8_t dir) {
    pkt_meta m = parsed(f);
    m.conn = id;
    m.dir = dir;
    m.v = verdict::tx;
    return m;
  }
};

TEST_F(RouteStage, EachDirectionLeavesThroughItsNextHop) {
  bytes to_pod = tcp_frame(snat4, pod4, 1025, 8080, 0x10), to_client = tcp_frame(vip4, ip4_client, 80, 40000, 0x10);
  mbuf_burst b({to_pod, to_client});
  pkt_meta meta[2] = {translated(to_pod, 0), translated(to_client, 1)};
  route_burst(b.data(), meta, 2, nh.get(), f.table, nb, c);
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[0].out_port, 1);
  bytes out0 = b.frame(0), out1 = b.frame(1);
  EXPECT_EQ(out0, frame(frame(pod_router_mac, p1_mac), bytes(to_pod.begin() + 12, to_pod.end())))
      << "to the pods' router, from port 1's MAC, the rest untouched";
  EXPECT_EQ(meta[1].out_port, 0);
  EXPECT_EQ(out1, frame(frame(client_mac, p0_mac), bytes(to_client.begin() + 12, to_client.end())));
  EXPECT_EQ(f.table.at(id).hop[0], 2) << "neighbour 1, cached (+1)";
  EXPECT_EQ(f.table.at(id).hop[1], 1);
}

TEST_F(RouteStage, TheCachedHopIsUsedWithoutALookup) {
  bytes to_pod = tcp_frame(snat4, pod4, 1025, 8080, 0x10);
  {
    mbuf_burst b({to_pod});
    pkt_meta meta[1] = {translated(to_pod, 0)};
    route_burst(b.data(), meta, 1, nh.get(), f.table, nb, c);
  }
  nh->n_routes = 0;  // a lookup would find nothing now
  mbuf_burst b({to_pod});
  pkt_meta meta[1] = {translated(to_pod, 0)};
  route_burst(b.data(), meta, 1, nh.get(), f.table, nb, c);
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[0].out_port, 1);
}

TEST_F(RouteStage, NoNeighbourIsADrop) {
  nh->n_routes = 0;
  bytes to_pod = tcp_frame(snat4, pod4, 1025, 8080, 0x10);
  mbuf_burst b({to_pod});
  pkt_meta meta[1] = {translated(to_pod, 0)};
  route_burst(b.data(), meta, 1, nh.get(), f.table, nb, c);
  EXPECT_EQ(meta[0].v, verdict::drop);
  EXPECT_EQ(meta[0].why, drop_reason::no_neighbor);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::no_neighbor)], 1u);
  EXPECT_EQ(f.table.at(id).hop[0], 0) << "nothing cached";
  meta[0] = translated(to_pod, 0);
  route_burst(b.data(), meta, 1, nullptr, f.table, nb, c);
  EXPECT_EQ(meta[0].why, drop_reason::no_neighbor) << "no table at all";
}

TEST_F(RouteStage, PacketsWithoutAConnectionKeepTheirAddresses) {
  bytes reply = tcp_frame(vip4, ip4_client, 80, 40000, 0x10);
  mbuf_burst b({reply, reply});
  pkt_meta meta[2] = {parsed(reply), parsed(reply)};
  meta[0].v = verdict::tx;  // built by another stage (an ICMP reject, a local reply)
  meta[0].out_port = 3;
  meta[1] = translated(reply, 1);
  meta[1].v = verdict::pending;  // not translated
  route_burst(b.data(), meta, 2, nh.get(), f.table, nb, c);
  EXPECT_EQ(b.frame(0), reply);
  EXPECT_EQ(meta[0].out_port, 3);
  EXPECT_EQ(b.frame(1), reply);
  EXPECT_EQ(meta[1].v, verdict::pending);
}

// The stack's segments: next hop by IP destination, cached by destination as
// an index into the table. A new generation of the table (neighbours
// rewritten) or another table must not be served from the old indices.
TEST_F(RouteStage, OriginatedHopCacheFollowsTheTablesGeneration) {
  origin_route_cache cache;
  uint64_t no_route = 0;
  bytes to_client = tcp_frame(vip4, ip4_client, 80, 40000, 0x10);
  auto send = [&](const nexthop_table* t) {
    mbuf_burst b({to_client});
    pkt_meta meta[1] = {parsed(to_client)};
    meta[0].v = verdict::tx;
    route_originated_burst(b.data(), meta, 1, t, cache, no_route, nb, c);
    return std::make_pair(meta[0], b.frame(0));
  };
  auto [m0, f0] = send(nh.get());
  ASSERT_EQ(m0.v, verdict::tx);
  EXPECT_EQ(bytes(f0.begin(), f0.begin() + 6), client_mac);
  EXPECT_EQ(m0.out_port, 0);
  // The client moves: the table is rewritten with it as the second entry and
  // another host first (what learning neighbours at run time would do).
  const bytes moved_mac = {2, 0, 0, 0, 0, 0x77};
  std::swap(nh->neighbors[0], nh->neighbors[1]);
  std::memcpy(nh->neighbors[1].mac, moved_mac.data(), 6);
  nh->neighbors[1].port = 1;
  nexthop_reindex(*nh);
  nh->generation++;
  auto [m1, f1] = send(nh.get());
  ASSERT_EQ(m1.v, verdict::tx);
  EXPECT_EQ(bytes(f1.begin(), f1.begin() + 6), moved_mac) << "the cached index named the old slot";
  EXPECT_EQ(m1.out_port, 1);
  // A table published anew at another address, without the client: a drop,
  // not the old table's answer.
  auto other = std::make_unique<nexthop_table>();
  auto [m2, f2] = send(other.get());
  EXPECT_EQ(m2.v, verdict::drop);
  EXPECT_EQ(no_route, 1u);
  auto [m3, f3] = send(nh.get());
  EXPECT_EQ(m3.v, verdict::tx) << "back on the first table";
}

}  // namespace
}  // namespace kgw
