// parse_burst and local_burst over real mbufs: replies built in the mbuf,
// lengths grown, drops counted.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/protocols.h"
#include "pipelines/local/local.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/mbufs.h"

namespace kgw {
namespace {

using namespace kgw::test;

uint64_t drops(const lcore_counters& c, drop_reason r) { return c.drops[static_cast<unsigned>(r)]; }

TEST(LocalBurst, RepliesOverMbufs) {
  local_table t;
  t.n_v4 = 1;
  std::memcpy(t.v4[0], ip4_gw.data(), 4);
  t.n_v6 = 1;
  std::memcpy(t.v6[0], ip6_gw.data(), 16);
  std::memcpy(t.port_mac[1], mac_gw.data(), 6);

  bytes echo = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, with_icmp4_sum(icmp(8, 0, 1, 2))));
  bytes ns = icmp(icmp6_neighbor_solicit, 0, 0, 0, ip6_gw);
  bytes sn = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1};
  ns = with_l4_sum6(ns, 2, ip6_client, sn, ipproto_icmpv6);
  bytes ns_f = frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6, .dst = sn, .hop_limit = 255}, ns));
  bytes bad_ip = echo;
  bad_ip[14] = 0x43;

  mbuf_burst b({echo, ns_f, bad_ip, echo, eth(0x88cc)}, 1);
  b.pkts[3]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;  // the NIC says the header checksum is wrong
  pkt_meta meta[5];
  lcore_counters c{};
  parse_burst(b.data(), meta, 5, c);
  local_lcore s;
  local_burst(b.data(), meta, 5, t, s, c);

  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[0].out_port, 1);
  EXPECT_EQ(meta[1].v, verdict::tx);
  EXPECT_EQ(rte_pktmbuf_data_len(b.pkts[1]), ns_f.size() + 8);  // NA carries an 8-byte option more
  EXPECT_EQ(rte_pktmbuf_pkt_len(b.pkts[1]), ns_f.size() + 8);
  EXPECT_EQ(meta[2].why, drop_reason::ipv4_bad_ihl);
  EXPECT_EQ(meta[3].why, drop_reason::ipv4_bad_checksum);
  EXPECT_EQ(meta[4].why, drop_reason::ethertype_unsupported);
  EXPECT_EQ(drops(c, drop_reason::ipv4_bad_ihl), 1u);
  EXPECT_EQ(drops(c, drop_reason::ipv4_bad_checksum), 1u);
  EXPECT_EQ(drops(c, drop_reason::ethertype_unsupported), 1u);
  EXPECT_EQ(c.local.icmp_echo_replies, 1u);
  EXPECT_EQ(c.local.nd_adverts, 1u);
}

}  // namespace
}  // namespace kgw
