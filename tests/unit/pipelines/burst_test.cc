// The stages over real mbufs: EAL without hugepages or devices, one mempool.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <cstring>
#include <string>

#include "pipelines/common/protocols.h"
#include "pipelines/local/local.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/pipelines/packet_builder.h"

namespace kgw {
namespace {

using namespace kgw::test;

rte_mempool* pool;

rte_mbuf* mbuf_of(const bytes& f, uint16_t port = 1) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  EXPECT_NE(m, nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  m->port = port;
  return m;
}

uint64_t drops(const lcore_counters& c, drop_reason r) { return c.drops[static_cast<unsigned>(r)]; }

TEST(Burst, ParseAndLocalOverMbufs) {
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

  rte_mbuf* pkts[5] = {mbuf_of(echo), mbuf_of(ns_f), mbuf_of(bad_ip), mbuf_of(echo), mbuf_of(eth(0x88cc))};
  pkts[3]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;  // the NIC says the header checksum is wrong
  pkt_meta meta[5];
  lcore_counters c{};
  parse_burst(pkts, meta, 5, c);
  local_burst(pkts, meta, 5, t, c);

  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[0].out_port, 1);
  EXPECT_EQ(meta[1].v, verdict::tx);
  EXPECT_EQ(rte_pktmbuf_data_len(pkts[1]), ns_f.size() + 8);  // NA carries an 8-byte option more
  EXPECT_EQ(rte_pktmbuf_pkt_len(pkts[1]), ns_f.size() + 8);
  EXPECT_EQ(meta[2].why, drop_reason::ipv4_bad_ihl);
  EXPECT_EQ(meta[3].why, drop_reason::ipv4_bad_checksum);
  EXPECT_EQ(meta[4].why, drop_reason::ethertype_unsupported);
  EXPECT_EQ(drops(c, drop_reason::ipv4_bad_ihl), 1u);
  EXPECT_EQ(drops(c, drop_reason::ipv4_bad_checksum), 1u);
  EXPECT_EQ(drops(c, drop_reason::ethertype_unsupported), 1u);
  EXPECT_EQ(c.local.icmp_echo_replies, 1u);
  EXPECT_EQ(c.local.nd_adverts, 1u);
  rte_pktmbuf_free_bulk(pkts, 5);
}

TEST(Burst, HeadersAcrossSegmentsAreCountedAsMultiseg) {
  bytes f = frame(eth(ethertype_ipv4), ipv4({}, tcp(1, 2, 0x02, bytes(100, 7))));
  bytes head(f.begin(), f.begin() + 40), tail(f.begin() + 40, f.end());
  rte_mbuf* a = mbuf_of(head);
  rte_mbuf* b = mbuf_of(tail);
  ASSERT_EQ(rte_pktmbuf_chain(a, b), 0);
  pkt_meta meta[1];
  lcore_counters c{};
  parse_burst(&a, meta, 1, c);
  EXPECT_EQ(meta[0].why, drop_reason::multiseg_unsupported);
  EXPECT_EQ(drops(c, drop_reason::multiseg_unsupported), 1u);
  rte_pktmbuf_free(a);
}

}  // namespace
}  // namespace kgw

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit_pipelines_burst", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  kgw::pool = rte_pktmbuf_pool_create("unit_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!kgw::pool) {
    fprintf(stderr, "mempool create failed\n");
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  // EAL leaves an empty runtime directory behind even without shared config.
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());
  return rc;
}
