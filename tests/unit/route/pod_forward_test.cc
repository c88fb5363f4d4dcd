// Pod routing over real mbufs: the pod route tries built from a published
// list (longest prefix wins), forwarding on the gateway's segment, to a
// Node's address (overlay none) and in VXLAN (the bytes on the wire), VXLAN
// taken apart and its drops, TTL, and the ICMP an encapsulation over the
// MTU sends back.
#include "pipelines/route/pod_forward.h"

#include <gtest/gtest.h>

#include <rte_malloc.h>

#include <memory>
#include <string>

#include "dataplane/publish/pod_route_publisher.h"
#include "pipelines/common/checksum.h"
#include "pipelines/common/net_types.h"
#include "pipelines/parse/parse.h"
#include "pipelines/route/vxlan.h"
#include "pipelines/route/route_stage.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/mbufs.h"
#include "tests/unit/support/pod_route_builders.h"

namespace kgw {
namespace {

using namespace kgw::test;

const bytes p1_mac = {2, 0, 0, 0, 0, 0xa1};
const bytes local_pod_mac = {2, 0, 0, 0, 0x10, 5}, node_b_mac = {2, 0, 0, 0, 1, 2};
const bytes gw_vtep_mac = {2, 0, 0, 0, 0xee, 1}, node_b_vtep = {2, 0, 0, 0, 0xee, 2};
const bytes local_pod = {198, 19, 10, 5}, remote_pod = {198, 19, 20, 7}, other_pod = {198, 19, 99, 1};
const bytes node_b = {198, 18, 1, 2}, gw_vtep = {198, 18, 1, 1};
const bytes remote_pod6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
const bytes node_b6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const bytes gw_vtep6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const bytes gw_vtep_mac6 = {2, 0, 0, 0, 0xee, 0x61}, node_b_vtep6 = {2, 0, 0, 0, 0xee, 0x62};

// Nodes: "gw" owns 198.19.10.0/24 (an on-link network of port 0), "b" owns
// 198.19.20.0/24 and 2001:db8:20::/64 behind 198.18.1.2 and 2001:db8:1::2
// (port 1; an IPv6 VTEP too), "wide" owns 198.19.0.0/16 without an address.
pod_route_list* make_list() {
  pod_route_list* l = new_pod_route_list("test_pods");
  std::snprintf(l->nodes[0].name, 64, "gw");
  std::snprintf(l->nodes[1].name, 64, "b");
  l->nodes[1].has_v4 = l->nodes[1].has_v6 = l->nodes[1].has_vtep_mac = 1;
  set_ip(l->nodes[1].addr4, "198.18.1.2");
  set_ip(l->nodes[1].addr6, "2001:db8:1::2");
  std::memcpy(l->nodes[1].vtep_mac, node_b_vtep.data(), 6);
  l->nodes[1].has_vtep_mac6 = 1;
  std::memcpy(l->nodes[1].vtep_mac6, node_b_vtep6.data(), 6);
  std::snprintf(l->nodes[2].name, 64, "wide");
  l->n_nodes = 3;
  l->cidrs[0] = cidr("198.19.10.0/24", 0);
  l->cidrs[1] = cidr("198.19.20.0/24", 1);
  l->cidrs[2] = cidr("2001:db8:20::/64", 1);
  l->cidrs[3] = cidr("198.19.0.0/16", 2);
  l->n_cidrs = 4;
  return l;
}

struct PodForward : ::testing::Test {
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  pod_network_conf conf;
  pod_route_table* routes = nullptr;
  refusal_limiter refusals;
  pod_forward_lcore s;
  neighbor_lcore nb;  // no resolver
  lcore_counters c{};
  static inline unsigned generation = 0;

  PodForward() {
    auto neighbor = [&](const bytes& ip, const bytes& mac, uint16_t port) {
      neighbor_entry& e = nh->neighbors[nh->n_neighbors++];
      e.family = ip.size() == 4 ? 4 : 6;
      std::memcpy(e.ip, ip.data(), ip.size());
      std::memcpy(e.mac, mac.data(), 6);
      e.port = port;
    };
    neighbor(local_pod, local_pod_mac, 0);
    neighbor(node_b, node_b_mac, 1);
    neighbor(node_b6, node_b_mac, 1);
    auto onlink = [&](const char* p, uint16_t port) {
      route_entry& r = nh->routes[nh->n_routes++];
      ip_prefix x = *parse_prefix(p);
      r.family = x.addr.family;
      r.len = x.len;
      r.onlink = 1;
      std::memcpy(r.prefix, x.addr.b.data(), 16);
      r.port = port;
    };
    onlink("198.19.10.0/24", 0);
    onlink("198.18.1.0/24", 1);
    std::memcpy(nh->port_mac[0], mac_gw.data(), 6);
    std::memcpy(nh->port_mac[1], p1_mac.data(), 6);
    nexthop_reindex(*nh);
    std::memcpy(conf.port_mac, nh->port_mac, sizeof conf.port_mac);
    conf.mtu[0] = conf.mtu[1] = 1500;
    std::memcpy(conf.vtep_mac, gw_vtep_mac.data(), 6);
    std::memcpy(conf.vtep_addr4, gw_vtep.data(), 4);
    std::memcpy(conf.icmp_src4, gw_vtep.data(), 4);
    conf.has_addr4 = 1;
    std::string error;
    routes = build_pod_route_table(make_list(), ++generation, error);
    EXPECT_TRUE(routes) << error;
    s.conf = &conf;
    s.routes = routes;
    s.refusals = &refusals;
  }
  ~PodForward() override { free_pod_route_table(routes); }

  void run(mbuf_burst& b, pkt_meta* meta) {
    parse_burst(b.data(), meta, b.size(), c);
    if (conf.overlay == pod_overlay::vxlan) vxlan_decap_burst(b.data(), meta, b.size(), conf, c);
    pod_forward_burst(b.data(), meta, b.size(), s, nh.get(), nb, c);
  }
  uint64_t drops(drop_reason r) const { return c.drops[static_cast<unsigned>(r)]; }

  // One frame through the stages, expected to leave on `port`: what leaves.
  bytes forwarded(const bytes& in, uint16_t port) {
    mbuf_burst b({in});
    pkt_meta meta[1];
    run(b, meta);
    EXPECT_EQ(meta[0].v, verdict::tx) << drop_reason_name(meta[0].why);
    EXPECT_EQ(meta[0].out_port, port);
    return b.frame(0);
  }
};

bytes ping(const bytes& src, const bytes& dst, uint8_t ttl = 64, size_t size = 8, uint16_t frag = 0) {
  bytes data(size, 0x5a);
  return framed(ipv4({.proto = ipproto_icmp, .src = src, .dst = dst, .frag = frag, .ttl = ttl},
                     with_icmp4_sum(icmp(8, 0, 1, 1, data))));
}

TEST_F(PodForward, LongestPrefixPicksTheOwningNode) {
  auto name = [&](uint8_t family, const bytes& a) {
    const pod_node* n = pod_route_lookup(*routes, family, a.data());
    return n ? std::string(n->name) : std::string("-");
  };
  EXPECT_EQ(name(4, remote_pod), "b");
  EXPECT_EQ(name(4, local_pod), "gw");
  EXPECT_EQ(name(4, other_pod), "wide") << "the /16 holds what the /24s do not";
  EXPECT_EQ(name(4, node_b), "-");
  EXPECT_EQ(name(6, remote_pod6), "b");
  EXPECT_EQ(name(6, ip6_client), "-");
}

TEST_F(PodForward, AnInvalidListIsRefused) {
  pod_route_list* l = make_list();
  l->cidrs[0].node = 7;
  std::string error;
  EXPECT_EQ(build_pod_route_table(l, ++generation, error), nullptr);
  EXPECT_NE(error, "");
  rte_free(l);
}

TEST_F(PodForward, HostGwRoutesToTheNodeAddress) {
  bytes in = ping(ip4_client, remote_pod);
  bytes out = forwarded(in, 1);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(node_b_mac, p1_mac));
  EXPECT_EQ(out[14 + 8], 63) << "TTL decremented";
  EXPECT_EQ(ref_checksum(bytes(out.begin() + 14, out.begin() + 34)), 0) << "header checksum still right";
  EXPECT_EQ(bytes(out.begin() + 34, out.end()), bytes(in.begin() + 34, in.end()));
  EXPECT_EQ(c.pod.routed, 1u);
}

bytes udp6(const bytes& dst, uint8_t hop_limit = 64) {
  return framed(
      ipv6({.proto = ipproto_udp, .src = ip6_client, .dst = dst, .hop_limit = hop_limit}, udp(1000, 2000, {1, 2})));
}

TEST_F(PodForward, Ipv6PodsRouteToTheNodesIpv6Address) {
  bytes in = udp6(remote_pod6);
  bytes out = forwarded(in, 1);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(node_b_mac, p1_mac));
  EXPECT_EQ(out[14 + 7], 63) << "hop limit decremented";
  EXPECT_EQ(bytes(out.begin() + 14 + 8, out.end()), bytes(in.begin() + 14 + 8, in.end()));
  mbuf_burst b({udp6(remote_pod6, 1)});
  pkt_meta meta[1];
  run(b, meta);
  EXPECT_EQ(drops(drop_reason::pod_ttl_exceeded), 1u);
}

TEST_F(PodForward, Ipv6PodsGoInTheIpv4Tunnel) {
  conf.overlay = pod_overlay::vxlan;
  bytes in = udp6(remote_pod6);
  bytes out = forwarded(in, 1);
  ASSERT_EQ(out.size(), in.size() + vxlan_outer_len);
  EXPECT_EQ(get16(out, 12), ethertype_ipv4);
  EXPECT_EQ(bytes(out.begin() + 30, out.begin() + 34), node_b);
  EXPECT_EQ(get16(out, vxlan_outer_len + 12), ethertype_ipv6) << "the inner frame says what it carries";
  EXPECT_EQ(out[vxlan_outer_len + 14 + 7], 63);
}

TEST_F(PodForward, APodOnTheSegmentIsDeliveredOnL2) {
  conf.overlay = pod_overlay::vxlan;  // on-link pods never go into the tunnel
  bytes out = forwarded(ping(ip4_client, local_pod), 0);
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(local_pod_mac, mac_gw));
  EXPECT_EQ(c.pod.on_link, 1u);
  EXPECT_EQ(c.pod.encapsulated, 0u);
}

TEST_F(PodForward, WhatIsNotForAPodOrNotSentToUsIsLeftAlone) {
  bytes overheard = ping(ip4_client, remote_pod);
  overheard[5] = 0x77;  // another station's MAC
  mbuf_burst b({overheard, ping(ip4_client, node_b)});
  pkt_meta meta[2];
  run(b, meta);
  EXPECT_EQ(meta[0].v, verdict::pending);
  EXPECT_EQ(meta[1].v, verdict::pending);
}

TEST_F(PodForward, TtlOneIsDropped) {
  mbuf_burst b({ping(ip4_client, remote_pod, 1)});
  pkt_meta meta[1];
  run(b, meta);
  EXPECT_EQ(meta[0].v, verdict::drop);
  EXPECT_EQ(drops(drop_reason::pod_ttl_exceeded), 1u);
}

TEST_F(PodForward, ANodeWithoutAddressIsACountedDrop) {
  mbuf_burst b({ping(ip4_client, other_pod)});
  pkt_meta meta[1];
  run(b, meta);
  EXPECT_EQ(meta[0].v, verdict::drop);
  EXPECT_EQ(drops(drop_reason::pod_no_node_address), 1u);
}

TEST_F(PodForward, VxlanEncapsulatesAsFlannelDoes) {
  conf.overlay = pod_overlay::vxlan;
  bytes in = ping(local_pod, remote_pod);
  bytes out = forwarded(in, 1);
  ASSERT_EQ(out.size(), in.size() + vxlan_outer_len);
  uint16_t sport = get16(out, 34);
  EXPECT_GE(sport, 49152);
  bytes inner = in;
  std::copy(node_b_vtep.begin(), node_b_vtep.end(), inner.begin());
  std::copy(gw_vtep_mac.begin(), gw_vtep_mac.end(), inner.begin() + 6);
  inner[14 + 8] = 63;
  put16(inner, 14 + 10, 0);
  put16(inner, 14 + 10, ref_checksum(bytes(inner.begin() + 14, inner.begin() + 34)));
  bytes vx = {0x08, 0, 0, 0, 0, 0, 1, 0};
  append(vx, inner);
  bytes want = frame(eth(ethertype_ipv4, node_b_mac, p1_mac),
                     ipv4({.proto = ipproto_udp, .src = gw_vtep, .dst = node_b}, udp(sport, 8472, vx)));
  EXPECT_EQ(out, want);
  EXPECT_EQ(c.pod.encapsulated, 1u);
  EXPECT_EQ(get16(forwarded(in, 1), 34), sport) << "the same flow keeps its source port";
}

bytes vxlan_frame(const bytes& inner, uint32_t vni = 1, uint8_t flags = 0x08) {
  bytes vx = {flags, 0, 0, 0, static_cast<uint8_t>(vni >> 16), static_cast<uint8_t>(vni >> 8),
              static_cast<uint8_t>(vni), 0};
  append(vx, inner);
  return framed(ipv4({.proto = ipproto_udp, .src = node_b, .dst = gw_vtep}, udp(50000, 8472, vx)));
}

TEST_F(PodForward, VxlanIsTakenApartAndRoutedLikeAnyPacket) {
  conf.overlay = pod_overlay::vxlan;
  bytes inner = ping(remote_pod, local_pod);
  std::copy(gw_vtep_mac.begin(), gw_vtep_mac.end(), inner.begin());
  bytes out = forwarded(vxlan_frame(inner), 0);
  EXPECT_EQ(c.pod.decapsulated, 1u);
  EXPECT_EQ(c.pod.on_link, 1u);
  ASSERT_EQ(out.size(), inner.size());
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(local_pod_mac, mac_gw));
  EXPECT_EQ(out[14 + 8], 63);
}

TEST_F(PodForward, VxlanDropsAreCountedByReason) {
  conf.overlay = pod_overlay::vxlan;
  bytes inner = ping(remote_pod, local_pod);
  bytes to_vtep = inner;
  std::copy(gw_vtep_mac.begin(), gw_vtep_mac.end(), to_vtep.begin());
  bytes short_one = framed(ipv4({.proto = ipproto_udp, .src = node_b, .dst = gw_vtep}, udp(50000, 8472, {8, 0, 0})));
  mbuf_burst b({vxlan_frame(to_vtep, 2), vxlan_frame(to_vtep, 1, 0), vxlan_frame(inner), short_one});
  pkt_meta meta[4];
  run(b, meta);
  for (const pkt_meta& m : meta) EXPECT_EQ(m.v, verdict::drop);
  EXPECT_EQ(drops(drop_reason::vxlan_bad_vni), 1u);
  EXPECT_EQ(drops(drop_reason::vxlan_bad_flags), 1u);
  EXPECT_EQ(drops(drop_reason::vxlan_bad_inner_mac), 1u);
  EXPECT_EQ(drops(drop_reason::vxlan_short), 1u);
  EXPECT_EQ(c.pod.decapsulated, 0u);
}

TEST_F(PodForward, TooBigForTheTunnelAnswersFragmentationNeeded) {
  conf.overlay = pod_overlay::vxlan;
  conf.mtu[1] = 1000;
  bytes in = ping(local_pod, remote_pod, 64, 1000 - 28, 0x4000);  // 1000 bytes of IP, DF
  bytes in_ip(in.begin() + 14, in.end());
  mbuf_burst b({in, ping(local_pod, remote_pod, 64, 1000 - 28, 0)});
  pkt_meta meta[2];
  run(b, meta);
  ASSERT_EQ(meta[0].v, verdict::tx) << drop_reason_name(meta[0].why);
  EXPECT_EQ(meta[0].out_port, 0) << "back to the sender, a pod on port 0's segment";
  bytes out = b.frame(0);
  bytes ip(out.begin() + 14, out.end());
  EXPECT_EQ(bytes(ip.begin() + 12, ip.begin() + 16), gw_vtep);
  EXPECT_EQ(bytes(ip.begin() + 16, ip.begin() + 20), local_pod);
  ASSERT_EQ(ip.size(), 20u + 8 + 28);
  EXPECT_EQ(ip[20], 3);
  EXPECT_EQ(ip[21], 4);
  EXPECT_EQ(get16(ip, 26), 1000 - vxlan_mtu_overhead);
  EXPECT_EQ(ref_checksum(bytes(ip.begin() + 20, ip.end())), 0);
  EXPECT_EQ(bytes(ip.begin() + 28, ip.begin() + 48), bytes(in_ip.begin(), in_ip.begin() + 20));
  EXPECT_EQ(c.pod.too_big_sent, 1u);
  EXPECT_EQ(meta[1].v, verdict::drop) << "no DF: kgw does not fragment";
  EXPECT_EQ(drops(drop_reason::pod_too_big), 1u);
}

TEST_F(PodForward, AServicePacketWithoutNextHopToAPodIsLeftToPodRouting) {
  // A Service's reply (dir 1) to a client pod behind Node b: no route of the
  // next-hop table holds it; the route stage leaves it to pod routing, which
  // sends it to the Node. Without pod routes it is a no_neighbor drop.
  conn_table_fixture f{64};
  const bytes vip = {198, 18, 100, 1}, endpoint = {198, 18, 1, 50};
  uint32_t id = f.insert(key(remote_pod, vip, 40000, 80, ipproto_tcp), key(endpoint, gw_vtep, 8080, 1025, ipproto_tcp),
                         ipproto_tcp, 0x02, 0);
  const pod_route_table* with_and_without[] = {routes, nullptr};
  for (const pod_route_table* pods : with_and_without) {
    mbuf_burst b({tcp_frame(vip, remote_pod, 80, 40000, 0x10)});
    pkt_meta meta[1];
    parse_burst(b.data(), meta, 1, c);
    meta[0].conn = id;
    meta[0].dir = 1;
    meta[0].v = verdict::tx;  // as nat leaves it
    route_burst(b.data(), meta, 1, nh.get(), f.table, nb, c, pods);
    if (!pods) {
      EXPECT_EQ(meta[0].v, verdict::drop);
      EXPECT_EQ(drops(drop_reason::no_neighbor), 1u);
      continue;
    }
    ASSERT_EQ(meta[0].v, verdict::pending);
    pod_forward_burst(b.data(), meta, 1, s, nh.get(), nb, c);
    ASSERT_EQ(meta[0].v, verdict::tx);
    EXPECT_EQ(meta[0].out_port, 1);
    EXPECT_EQ(c.pod.routed, 1u);
  }
}

// The gateway's own answer (here the local stage's echo reply, written over
// the request) to a pod that reached it through the tunnel goes back into the
// tunnel, its TTL as the gateway set it; a packet it forwards keeps going out
// bare when it did not come through a tunnel.
TEST_F(PodForward, AnAnswerToASenderBehindTheTunnelGoesBackIntoIt) {
  conf.overlay = pod_overlay::vxlan;
  bytes request = frame(eth(ethertype_ipv4, gw_vtep_mac, node_b_vtep),
                        ipv4({.proto = ipproto_icmp, .src = remote_pod, .dst = gw_vtep},
                             with_icmp4_sum(icmp(8, 0, 1, 1, bytes(8, 0x5a)))));
  for (bool tunneled : {true, false}) {
    mbuf_burst b({tunneled ? vxlan_frame(request) : request});
    pkt_meta meta[1];
    parse_burst(b.data(), meta, 1, c);
    vxlan_decap_burst(b.data(), meta, 1, conf, c);
    ASSERT_EQ(meta[0].tunneled, tunneled ? 1 : 0);
    // The answer as the local stage writes it: addresses turned, back out of in_port.
    uint8_t* f = rte_pktmbuf_mtod(b.data()[0], uint8_t*);
    uint8_t* ip = f + meta[0].l3_off;
    uint8_t a[4];
    std::memcpy(a, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, a, 4);
    meta[0].answer();
    const uint64_t enc = c.pod.encapsulated;
    pod_forward_burst(b.data(), meta, 1, s, nh.get(), nb, c);
    ASSERT_EQ(meta[0].v, verdict::tx);
    if (!tunneled) {
      EXPECT_EQ(c.pod.encapsulated, enc) << "not from a tunnel: left as the local stage sent it";
      continue;
    }
    EXPECT_EQ(c.pod.encapsulated, enc + 1);
    EXPECT_EQ(meta[0].out_port, 1);
    bytes out = b.frame(0);
    ASSERT_GE(out.size(), vxlan_outer_len + 34u);
    EXPECT_EQ(bytes(out.begin(), out.begin() + 6), node_b_mac);
    EXPECT_EQ(bytes(out.begin() + 30, out.begin() + 34), node_b) << "outer destination: the Node owning the pod";
    const size_t inner = vxlan_outer_len;  // outer Ethernet, IPv4, UDP, VXLAN
    EXPECT_EQ(bytes(out.begin() + inner, out.begin() + inner + 6), node_b_vtep);
    EXPECT_EQ(out[inner + 14 + 8], 64) << "the gateway's own TTL, not decremented";
    EXPECT_EQ(bytes(out.begin() + inner + 14 + 16, out.begin() + inner + 14 + 20), remote_pod);
  }
}

// A segment of the workers' TCP stack to a pod behind the tunnel, with its
// checksum left to the NIC (the pseudo-header sum in the field): the route
// stage finds no next hop and leaves it to pod routing, which finishes the
// checksum (the NIC cannot inside VXLAN) and encapsulates it, TTL kept.
TEST_F(PodForward, AnOriginatedSegmentToAPodIsEncapsulatedWithItsChecksumFinished) {
  conf.overlay = pod_overlay::vxlan;
  const bytes snat = {198, 18, 1, 250};
  bytes seg = tcp_frame(snat, remote_pod, 50000, 8080, 0x02);
  bytes want_l4(seg.begin() + 34, seg.end());  // as tcp_frame summed it
  mbuf_burst b({seg});
  pkt_meta meta[1];
  parse_burst(b.data(), meta, 1, c);
  uint8_t* f = rte_pktmbuf_mtod(b.data()[0], uint8_t*);
  const uint32_t pseudo = csum_add_bytes(0, f + 26, 8) + ipproto_tcp + (seg.size() - 34);
  store_be16(f + 34 + 16, static_cast<uint16_t>(~csum_finish(pseudo)));  // what an offloading stack leaves
  b.data()[0]->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
  meta[0].v = verdict::tx;  // as tcp_drain_tx hands it over
  origin_route_cache cache;
  uint64_t no_route = 0;
  route_originated_burst(b.data(), meta, 1, nh.get(), cache, no_route, nb, c, routes);
  ASSERT_EQ(meta[0].v, verdict::pending);
  EXPECT_EQ(no_route, 0u);
  pod_forward_originated(b.data(), meta, 1, s, nh.get(), nb, c);
  ASSERT_EQ(meta[0].v, verdict::tx) << drop_reason_name(meta[0].why);
  EXPECT_EQ(b.data()[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
  bytes out = b.frame(0);
  const size_t inner = vxlan_outer_len;
  ASSERT_EQ(out.size(), inner + seg.size());
  EXPECT_EQ(out[inner + 14 + 8], seg[14 + 8]) << "TTL kept";
  EXPECT_EQ(bytes(out.begin() + inner + 34, out.end()), want_l4) << "the TCP checksum finished in software";
  EXPECT_EQ(c.pod.encapsulated, 1u);
}

// The gateway with an IPv6 VTEP too (pod_network.vtep_address6).
void with_ipv6_underlay(pod_network_conf& conf) {
  conf.overlay = pod_overlay::vxlan;
  conf.has_vtep6 = 1;
  std::memcpy(conf.vtep_addr6, gw_vtep6.data(), 16);
  std::memcpy(conf.vtep_mac6, gw_vtep_mac6.data(), 6);
  std::memcpy(conf.icmp_src6, gw_vtep6.data(), 16);
  conf.has_addr6 = 1;
}

// The outer UDP checksum of an IPv6 VXLAN frame, summed again by the
// reference: 0 when the field is right.
uint16_t outer_udp6_residue(const bytes& f) {
  const bytes src(f.begin() + 22, f.begin() + 38), dst(f.begin() + 38, f.begin() + 54);
  const bytes datagram(f.begin() + 54, f.end());
  return ref_checksum(datagram, pseudo6(src, dst, ipproto_udp, datagram.size()));
}

TEST_F(PodForward, Ipv6PodsGoInTheIpv6TunnelWhenBothEndsHaveOne) {
  with_ipv6_underlay(conf);
  bytes in = udp6(remote_pod6);
  bytes out = forwarded(in, 1);
  ASSERT_EQ(out.size(), in.size() + vxlan6_outer_len);
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(node_b_mac, p1_mac)) << "the Node's IPv6 neighbour";
  EXPECT_EQ(get16(out, 12), ethertype_ipv6);
  const uint16_t sport = get16(out, 54);
  EXPECT_GE(sport, 49152);
  const uint16_t sum = get16(out, 60);
  EXPECT_NE(sum, 0) << "IPv6 requires the UDP checksum";
  EXPECT_EQ(outer_udp6_residue(out), 0) << "the outer UDP checksum, summed again";
  const uint32_t label = (uint32_t{out[15]} & 0x0f) << 16 | get16(out, 16);
  bytes inner = in;
  std::copy(node_b_vtep6.begin(), node_b_vtep6.end(), inner.begin());
  std::copy(gw_vtep_mac6.begin(), gw_vtep_mac6.end(), inner.begin() + 6);
  inner[14 + 7] = 63;
  bytes vx = {0x08, 0, 0, 0, 0, 0, 1, 0};
  append(vx, inner);
  bytes datagram = udp(sport, 8472, vx);
  put16(datagram, 6, sum);
  bytes want = frame(eth(ethertype_ipv6, node_b_mac, p1_mac),
                     ipv6({.proto = ipproto_udp, .src = gw_vtep6, .dst = node_b6}, datagram));
  want[15] = static_cast<uint8_t>(label >> 16);  // version 6, traffic class 0, the flow's label
  put16(want, 16, static_cast<uint16_t>(label));
  EXPECT_EQ(out, want);
  EXPECT_EQ(c.pod.encapsulated, 1u);
  bytes again = forwarded(in, 1);
  EXPECT_EQ(get16(again, 54), sport) << "the same flow keeps its source port";
  EXPECT_EQ(bytes(again.begin() + 14, again.begin() + 18), bytes(out.begin() + 14, out.begin() + 18))
      << "and its flow label";
  // IPv4 pods of the same Node keep the IPv4 underlay.
  bytes v4 = forwarded(ping(local_pod, remote_pod), 1);
  EXPECT_EQ(get16(v4, 12), ethertype_ipv4);
  EXPECT_EQ(bytes(v4.begin() + vxlan_outer_len, v4.begin() + vxlan_outer_len + 6), node_b_vtep);
}

TEST_F(PodForward, AnOddSizedDatagramGetsItsIpv6ChecksumRight) {
  with_ipv6_underlay(conf);
  for (size_t n : {0u, 1u, 7u, 1001u}) {
    bytes in = framed(ipv6({.proto = ipproto_udp, .src = ip6_client, .dst = remote_pod6},
                           udp(1000, 2000, bytes(n, static_cast<uint8_t>(0xa5 + n)))));
    bytes out = forwarded(in, 1);
    EXPECT_EQ(outer_udp6_residue(out), 0) << n << " bytes of payload";
  }
}

bytes vxlan6_frame(const bytes& inner, uint16_t checksum_delta = 0, bool zero = false) {
  bytes vx = {0x08, 0, 0, 0, 0, 0, 1, 0};
  append(vx, inner);
  bytes d = with_l4_sum6(udp(50000, 8472, vx), 6, node_b6, gw_vtep6, ipproto_udp);
  if (zero) put16(d, 6, 0);
  else put16(d, 6, static_cast<uint16_t>(get16(d, 6) + checksum_delta));
  return framed(ipv6({.proto = ipproto_udp, .src = node_b6, .dst = gw_vtep6}, d));
}

TEST_F(PodForward, Ipv6VxlanIsTakenApartWhenItsChecksumIsRight) {
  with_ipv6_underlay(conf);
  bytes inner = ping(remote_pod, local_pod);
  std::copy(gw_vtep_mac6.begin(), gw_vtep_mac6.end(), inner.begin());
  bytes out = forwarded(vxlan6_frame(inner), 0);
  EXPECT_EQ(c.pod.decapsulated, 1u);
  ASSERT_EQ(out.size(), inner.size());
  EXPECT_EQ(bytes(out.begin(), out.begin() + 12), frame(local_pod_mac, mac_gw));
  EXPECT_EQ(out[14 + 8], 63);

  bytes for_ipv4_vtep = ping(remote_pod, local_pod);
  std::copy(gw_vtep_mac.begin(), gw_vtep_mac.end(), for_ipv4_vtep.begin());
  mbuf_burst b({vxlan6_frame(inner, 1), vxlan6_frame(inner, 0, true), vxlan6_frame(for_ipv4_vtep)});
  pkt_meta meta[3];
  run(b, meta);
  for (const pkt_meta& m : meta) EXPECT_EQ(m.v, verdict::drop);
  EXPECT_EQ(drops(drop_reason::vxlan_bad_checksum), 1u);
  EXPECT_EQ(drops(drop_reason::vxlan_zero_checksum), 1u);
  EXPECT_EQ(drops(drop_reason::vxlan_bad_inner_mac), 1u) << "the IPv6 VTEP has its own MAC";
  EXPECT_EQ(c.pod.decapsulated, 1u);

  // Without an IPv6 VTEP the datagram is no VXLAN of the gateway's.
  conf.has_vtep6 = 0;
  mbuf_burst off({vxlan6_frame(inner)});
  pkt_meta m1[1];
  run(off, m1);
  EXPECT_EQ(m1[0].v, verdict::pending);
  EXPECT_EQ(c.pod.decapsulated, 1u);
}

TEST_F(PodForward, TooBigForTheIpv6TunnelCountsItsLongerHeader) {
  with_ipv6_underlay(conf);
  conf.mtu[1] = 1000;
  const size_t fits = 1000 - vxlan6_mtu_overhead;  // an IPv6 packet of this size still fits
  auto sized = [](size_t ip_len) {
    return framed(ipv6({.proto = ipproto_udp, .src = ip6_client, .dst = remote_pod6},
                       udp(1000, 2000, bytes(ip_len - 48, 0x33))));
  };
  bytes ok = forwarded(sized(fits), 1);
  EXPECT_EQ(ok.size(), 14 + 1000u);
  mbuf_burst b({sized(fits + 1)});
  pkt_meta meta[1];
  run(b, meta);
  ASSERT_EQ(meta[0].v, verdict::tx) << drop_reason_name(meta[0].why);
  EXPECT_EQ(meta[0].out_port, 0) << "back where it came from";
  bytes out = b.frame(0);
  bytes ip(out.begin() + 14, out.end());
  EXPECT_EQ(ip[40], 2) << "packet too big";
  EXPECT_EQ((uint32_t{get16(ip, 44)} << 16) | get16(ip, 46), 1000 - vxlan6_mtu_overhead);
  EXPECT_EQ(bytes(ip.begin() + 8, ip.begin() + 24), gw_vtep6);
  EXPECT_EQ(c.pod.too_big_sent, 1u);
}

// The gateway's echo reply to a pod that asked through the IPv6 tunnel goes
// back into it.
TEST_F(PodForward, AnAnswerGoesBackIntoTheIpv6Tunnel) {
  with_ipv6_underlay(conf);
  bytes request = frame(eth(ethertype_ipv6, gw_vtep_mac6, node_b_vtep6),
                        ipv6({.proto = ipproto_udp, .src = remote_pod6, .dst = gw_vtep6}, udp(1000, 7, {1, 2})));
  mbuf_burst b({vxlan6_frame(request)});
  pkt_meta meta[1];
  parse_burst(b.data(), meta, 1, c);
  vxlan_decap_burst(b.data(), meta, 1, conf, c);
  ASSERT_EQ(meta[0].tunneled, 1);
  uint8_t* ip = rte_pktmbuf_mtod(b.data()[0], uint8_t*) + meta[0].l3_off;
  uint8_t a[16];
  std::memcpy(a, ip + 8, 16);
  std::memcpy(ip + 8, ip + 24, 16);
  std::memcpy(ip + 24, a, 16);
  meta[0].answer();
  pod_forward_burst(b.data(), meta, 1, s, nh.get(), nb, c);
  ASSERT_EQ(meta[0].v, verdict::tx);
  bytes out = b.frame(0);
  ASSERT_GE(out.size(), vxlan6_outer_len + 54u);
  EXPECT_EQ(get16(out, 12), ethertype_ipv6);
  EXPECT_EQ(bytes(out.begin() + 38, out.begin() + 54), node_b6);
  EXPECT_EQ(bytes(out.begin() + vxlan6_outer_len, out.begin() + vxlan6_outer_len + 6), node_b_vtep6);
  EXPECT_EQ(out[vxlan6_outer_len + 14 + 7], 64) << "the gateway's own hop limit";
  EXPECT_EQ(outer_udp6_residue(out), 0);
}

TEST_F(PodForward, VxlanHeaderHelpers) {
  uint8_t h[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
  EXPECT_EQ(vxlan_vni(h), 0x123456);
  h[0] = 0;
  EXPECT_EQ(vxlan_vni(h), -1);
  for (uint32_t x : {0u, 1u, 0xffffffffu, 0x12345678u}) EXPECT_GE(vxlan_source_port(x), 49152);
}

}  // namespace
}  // namespace kgw
