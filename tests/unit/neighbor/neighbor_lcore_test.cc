// The workers' side over real mbufs: what the listening stage makes of ARP,
// NS and NA (events, packets taken or left to the local stage), a packet
// handed to the resolver, and the route stage by an entry's state.
#include "pipelines/neighbor/neighbor_lcore.h"

#include <gtest/gtest.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>
#include <memory>
#include <vector>

#include "pipelines/common/protocols.h"
#include "pipelines/local/local.h"
#include "pipelines/parse/parse.h"
#include "pipelines/route/route_stage.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/mbufs.h"

namespace kgw {
namespace {

using namespace kgw::test;

const bytes bcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero_mac(6, 0);
const bytes all_nodes = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const bytes ip4_other = {198, 18, 0, 9}, ip6_other = {0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};

// An NA for `target` from it, flags R/S/O as in the message, a target link-layer option.
bytes na(const bytes& dst, uint8_t flags, const bytes& target, uint8_t hop_limit = 255) {
  bytes body = target;
  append(body, {2, 1});
  append(body, mac_a);
  bytes m = with_l4_sum6(icmp(icmp6_neighbor_advert, 0, static_cast<uint16_t>(flags << 8), 0, body), 2, target, dst,
                         ipproto_icmpv6);
  return frame(eth(ethertype_ipv6, mac_gw), ipv6({.proto = ipproto_icmpv6, .src = target, .dst = dst,
                                                  .hop_limit = hop_limit}, m));
}

struct Snoop : ::testing::Test {
  local_table t;
  rte_ring* ring = nullptr;
  neighbor_lcore s;
  lcore_counters c{};

  Snoop() {
    t.n_v4 = 1;
    std::memcpy(t.v4[0], ip4_gw.data(), 4);
    t.n_v6 = 1;
    std::memcpy(t.v6[0], ip6_gw.data(), 16);
    static int n = 0;
    std::string name = "t_nb_" + std::to_string(n++);
    ring = rte_ring_create_elem(name.c_str(), sizeof(neighbor_event), 64, SOCKET_ID_ANY, 0);
    s.resolver = ring;
    s.worker = 3;
  }
  ~Snoop() override { rte_ring_free(ring); }

  std::vector<neighbor_event> events() {
    std::vector<neighbor_event> out;
    neighbor_event e;
    while (rte_ring_dequeue_elem(ring, &e, sizeof e) == 0) out.push_back(e);
    return out;
  }
};

TEST_F(Snoop, ArpAndNdBecomeEventsAndAnswersAreTaken) {
  mbuf_burst b({
      frame(eth(ethertype_arp), arp(arp_op_reply, mac_a, ip4_client, mac_gw, ip4_gw)),        // an answer to us
      frame(eth(ethertype_arp, bcast), arp(arp_op_request, mac_a, ip4_other, zero_mac, ip4_other)),  // gratuitous
      frame(eth(ethertype_arp, bcast), arp(arp_op_request, mac_a, ip4_client, zero_mac, ip4_gw)),  // a request to us
      na(all_nodes, 0x20, ip6_other),          // unsolicited, override
      na(ip6_gw, 0x60, ip6_client),            // solicited, override
      na(ip6_gw, 0x60, ip6_client, 64),        // not from the link: ignored
      frame(eth(ethertype_arp), arp(arp_op_reply, mac_a, ip4_gw, mac_gw, ip4_gw)),  // claims our address
  }, 2);
  pkt_meta meta[7];
  parse_burst(b.data(), meta, 7, c);
  neighbor_snoop_burst(b.data(), meta, 7, t, s, c);
  verdict want[7] = {verdict::consumed, verdict::consumed, verdict::pending, verdict::consumed, verdict::consumed,
                     verdict::pending, verdict::pending};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(meta[i].v, want[i]) << i;
    if (meta[i].v == verdict::consumed) b.pkts[i] = nullptr;  // the stage freed it
  }
  auto ev = events();
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(c.neighbor.heard, 5u);
  EXPECT_EQ(ev[0].kind, neighbor_event_kind::arp);
  EXPECT_EQ(ev[0].flags, nbf_reply | nbf_to_us);
  EXPECT_EQ(ev[0].port, 2);
  EXPECT_EQ(ev[0].worker, 3);
  EXPECT_EQ(ev[0].pkt, nullptr);
  EXPECT_EQ(bytes(ev[0].ip, ev[0].ip + 4), ip4_client);
  EXPECT_EQ(bytes(ev[0].mac, ev[0].mac + 6), mac_a);
  EXPECT_EQ(ev[1].flags, 0) << "gratuitous: neither a reply nor to us";
  EXPECT_EQ(bytes(ev[1].ip, ev[1].ip + 4), ip4_other);
  EXPECT_EQ(ev[2].flags, nbf_to_us);
  EXPECT_EQ(ev[3].kind, neighbor_event_kind::na);
  EXPECT_EQ(ev[3].flags, nbf_override | nbf_has_mac);
  EXPECT_EQ(bytes(ev[3].ip, ev[3].ip + 16), ip6_other);
  EXPECT_EQ(ev[4].flags, nbf_override | nbf_solicited | nbf_has_mac);
  EXPECT_EQ(bytes(ev[4].mac, ev[4].mac + 6), mac_a);
}

// With the exception path on, answers to a node address are the kernel's
// too (its own ARP requests and solicitations): learnt from, then left
// pending for the local stage to pass on. Gratuitous ARP and unsolicited NAs
// to all nodes are still taken.
TEST_F(Snoop, AnswersToTheKernelAreLearntAndLeftForIt) {
  t.v4_node = 1;
  t.v6_node = 1;
  t.exception = true;
  mbuf_burst b({
      frame(eth(ethertype_arp), arp(arp_op_reply, mac_a, ip4_client, mac_gw, ip4_gw)),
      na(ip6_gw, 0x60, ip6_client),
      frame(eth(ethertype_arp, bcast), arp(arp_op_request, mac_a, ip4_other, zero_mac, ip4_other)),
      na(all_nodes, 0x20, ip6_other),
  }, 2);
  pkt_meta meta[4];
  parse_burst(b.data(), meta, 4, c);
  neighbor_snoop_burst(b.data(), meta, 4, t, s, c);
  verdict want[4] = {verdict::pending, verdict::pending, verdict::consumed, verdict::consumed};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(meta[i].v, want[i]) << i;
    if (meta[i].v == verdict::consumed) b.pkts[i] = nullptr;  // the stage freed it
  }
  EXPECT_EQ(events().size(), 4u) << "the resolver learns from all of them";
}

TEST_F(Snoop, AMissHandsThePacketOverAndAFullRingDropsIt) {
  bytes f = tcp_frame(snat4, pod4, 1025, 8080, 0x02);
  rte_mbuf* m = mbuf_of(f);
  pkt_meta meta = parsed(f);
  neighbor_queue(s, m, meta, 4, pod4.data(), 1, c);
  EXPECT_EQ(meta.v, verdict::consumed);
  EXPECT_EQ(c.neighbor.misses, 1u);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, neighbor_event_kind::miss);
  EXPECT_EQ(ev[0].pkt, m);
  EXPECT_EQ(ev[0].port, 1);
  EXPECT_EQ(bytes(ev[0].ip, ev[0].ip + 4), pod4);
  rte_pktmbuf_free(m);

  neighbor_event filler{};
  while (rte_ring_enqueue_elem(ring, &filler, sizeof filler) == 0) {
  }
  mbuf_burst b({f});
  meta = parsed(f);
  neighbor_queue(s, b.pkts[0], meta, 4, pod4.data(), 1, c);
  EXPECT_EQ(meta.why, drop_reason::neighbor_queue_full);
  neighbor_lcore none;
  meta = parsed(f);
  neighbor_queue(none, b.pkts[0], meta, 4, pod4.data(), 1, c);
  EXPECT_EQ(meta.why, drop_reason::no_neighbor) << "no resolver: as before resolution existed";
}

// The route stage by the state of the next hop's entry: an INCOMPLETE one
// queues, a FAILED one drops and marks the entry used (so that it is asked again).
TEST_F(Snoop, RouteStageQueuesForIncompleteAndDropsForFailed) {
  auto nh = std::make_unique<nexthop_table>();
  neighbor_entry& e = nh->neighbors[nh->n_neighbors++];
  e.family = 4;
  std::memcpy(e.ip, pod4.data(), 4);
  e.port = 1;
  e.state = neighbor_state::incomplete;
  nexthop_reindex(*nh);
  uint32_t used[max_neighbors] = {};
  s.used = used;
  s.now_tick = 77;
  conn_table_fixture f{64};
  uint32_t id = f.insert(key(ip4_client, vip4, 40000, 80, ipproto_tcp), key(pod4, snat4, 8080, 1025, ipproto_tcp),
                         ipproto_tcp, 0x02, 0);
  bytes to_pod = tcp_frame(snat4, pod4, 1025, 8080, 0x10);
  auto send = [&] {
    mbuf_burst b({to_pod});
    pkt_meta meta = parsed(to_pod);
    meta.conn = id;
    meta.v = verdict::tx;
    route_burst(b.data(), &meta, 1, nh.get(), f.table, s, c);
    if (meta.v == verdict::consumed) b.pkts[0] = nullptr;  // the resolver's now (freed below)
    return meta;
  };
  EXPECT_EQ(send().v, verdict::consumed);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  rte_pktmbuf_free(ev[0].pkt);
  EXPECT_EQ(f.table.at(id).hop[0], 1) << "the slot is cached while it resolves";
  EXPECT_EQ(used[0], 77u);
  e.state = neighbor_state::failed;
  s.now_tick = 78;
  pkt_meta m = send();
  EXPECT_EQ(m.why, drop_reason::neighbor_failed);
  EXPECT_EQ(c.neighbor.failed, 1u);
  EXPECT_EQ(used[0], 78u);
  EXPECT_TRUE(events().empty());
}

}  // namespace
}  // namespace kgw
