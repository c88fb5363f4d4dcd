// nat_burst over real mbufs: packets of tracked connections rewritten both
// ways by the connection's keys, checked byte for byte against the packet
// built from scratch; MSS clamp on SYNs towards the endpoint only; ICMP errors
// about a connection translated back; Service port and endpoint counters.
#include "pipelines/nat/nat_stage.h"

#include <gtest/gtest.h>

#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/mbufs.h"
#include "tests/unit/support/sctp_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint8_t SYN = 0x02, ACK = 0x10;

// A full-NAT connection client:40000 -> VIP:80 sent on as SNAT:1025 -> pod:8080,
// counted in slots 1 (Service port) and 2 (endpoint).
struct NatStage : ::testing::Test {
  conn_table_fixture f{64};
  conntrack_lcore cs{&f.table, 1000};
  std::vector<lb_counters> slot_mem = std::vector<lb_counters>(4);
  lb_slots slots{slot_mem.data(), 4};
  nat_lcore s{1460, &slots};
  lcore_counters c{};
  uint32_t id = open(key(ip4_client, vip4, 40000, 80, ipproto_tcp), key(pod4, snat4, 8080, 1025, ipproto_tcp));

  uint32_t open(const flow_key& o, const flow_key& r) {
    uint32_t i = f.insert(o, r, o.proto, SYN, 0);
    f.table.at(i).service = 1;
    f.table.at(i).backend = 2;
    return i;
  }

  // parse, conntrack and nat over the frames; the mbufs stay in `b`.
  std::vector<pkt_meta> run(mbuf_burst& b) {
    std::vector<pkt_meta> meta(b.size());
    parse_burst(b.data(), meta.data(), b.size(), c);
    conntrack_burst(b.data(), meta.data(), b.size(), cs, f.gone(), c);
    nat_burst(b.data(), meta.data(), b.size(), s, f.table, c);
    return meta;
  }
};

TEST_F(NatStage, BothDirectionsFollowTheConnectionsKeys) {
  bytes get = {'G', 'E', 'T'};
  mbuf_burst b({tcp_frame(ip4_client, vip4, 40000, 80, ACK, get), tcp_frame(pod4, snat4, 8080, 1025, ACK, get),
                tcp_frame(ip4_client, vip4, 40001, 80, ACK)});
  auto meta = run(b);
  EXPECT_EQ(b.frame(0), tcp_frame(snat4, pod4, 1025, 8080, ACK, get)) << "DNAT and SNAT towards the pod";
  EXPECT_EQ(b.frame(1), tcp_frame(vip4, ip4_client, 80, 40000, ACK, get)) << "and back, as from the VIP";
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::tx);
  EXPECT_EQ(meta[2].v, verdict::pending) << "no connection: not nat's";
  EXPECT_EQ(b.frame(2), tcp_frame(ip4_client, vip4, 40001, 80, ACK));
  uint64_t bytes_each = 20 + 20 + get.size();
  for (uint32_t i : {1u, 2u}) {
    EXPECT_EQ(slot_mem[i].packets, 2u);
    EXPECT_EQ(slot_mem[i].bytes, 2 * bytes_each);
  }
  EXPECT_EQ(slot_mem[0].packets, 0u);
}

// perf/update-probe times a change by these: the TSC when a slot counted its
// first packet (read then, not the burst's, which a preempted worker could
// have read before the change), and the burst's of the latest.
TEST_F(NatStage, TheFirstAndLatestPacketOfASlotAreStamped) {
  slots.now_tsc = 1000;
  uint64_t before = rte_rdtsc();
  mbuf_burst b1({tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  run(b1);
  uint64_t after = rte_rdtsc();
  slots.now_tsc = 2000;
  mbuf_burst b2({tcp_frame(ip4_client, vip4, 40000, 80, ACK), tcp_frame(pod4, snat4, 8080, 1025, ACK)});
  run(b2);
  for (uint32_t i : {1u, 2u}) {
    EXPECT_EQ(slot_mem[i].packets, 3u);
    EXPECT_GE(slot_mem[i].first_tsc, before);
    EXPECT_LE(slot_mem[i].first_tsc, after) << "the first packet's stamp stays";
    EXPECT_EQ(slot_mem[i].last_tsc, 2000u);
  }
  EXPECT_EQ(slot_mem[0].first_tsc, 0u) << "no packet, no stamp";
  EXPECT_EQ(slot_mem[0].last_tsc, 0u);
}

TEST_F(NatStage, Ipv6AndUdp) {
  uint32_t id6 = open(key(ip6_client, vip6, 5000, 53, ipproto_udp), key(pod6, ip6_client, 5353, 5000, ipproto_udp));
  ASSERT_NE(id6, conn_none);
  mbuf_burst b({udp_frame(ip6_client, vip6, 5000, 53), udp_frame(pod6, ip6_client, 5353, 5000)});
  run(b);
  EXPECT_EQ(b.frame(0), udp_frame(ip6_client, pod6, 5000, 5353)) << "client address kept";
  EXPECT_EQ(b.frame(1), udp_frame(vip6, ip6_client, 53, 5000));
}

TEST_F(NatStage, ClampsTheMssOfSynsTowardsTheEndpoint) {
  auto mss = [](uint16_t v) { return bytes{2, 4, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v), 1, 1, 1, 0}; };
  mbuf_burst b({tcp_frame(ip4_client, vip4, 40000, 80, SYN, {}, mss(9000)),
                tcp_frame(pod4, snat4, 8080, 1025, SYN | ACK, {}, mss(9000))});
  run(b);
  EXPECT_EQ(b.frame(0), tcp_frame(snat4, pod4, 1025, 8080, SYN, {}, mss(1460)));
  EXPECT_EQ(b.frame(1), tcp_frame(vip4, ip4_client, 80, 40000, SYN | ACK, {}, mss(9000))) << "the endpoint's own MSS stays";
  EXPECT_EQ(c.nat.mss_clamped, 1u);

  s.mss = 0;  // clamping off
  mbuf_burst again({tcp_frame(ip4_client, vip4, 40000, 80, SYN, {}, mss(9000))});
  run(again);
  EXPECT_EQ(again.frame(0), tcp_frame(snat4, pod4, 1025, 8080, SYN, {}, mss(9000)));
}

TEST_F(NatStage, AnIcmpErrorIsTranslatedBackWhole) {
  // The pod refuses what kgw sent it; the client must see a refusal of what it sent.
  mbuf_burst b({icmp_error_frame(pod4, snat4, tcp_packet(snat4, pod4, 1025, 8080, SYN))});
  auto meta = run(b);
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(b.frame(0), icmp_error_frame(vip4, ip4_client, tcp_packet(ip4_client, vip4, 40000, 80, SYN)))
      << "quoted packet, outer addresses and every checksum as if built so";
  EXPECT_EQ(c.nat.icmp_errors_translated, 1u);
  EXPECT_EQ(slot_mem[1].packets, 0u) << "an error is no packet of the connection";
}

TEST_F(NatStage, AnIcmpv6ErrorIsTranslatedBackWhole) {
  open(key(ip6_client, vip6, 40001, 443, ipproto_tcp), key(pod6, snat6, 8443, 2000, ipproto_tcp));
  mbuf_burst b({icmp_error_frame(pod6, snat6, tcp_packet(snat6, pod6, 2000, 8443, SYN))});
  run(b);
  EXPECT_EQ(b.frame(0), icmp_error_frame(vip6, ip6_client, tcp_packet(ip6_client, vip6, 40001, 443, SYN)));
}

// Path MTU discovery through the gateway: the endpoint's "too big" reaches
// the client about the packet the client sent, the MTU as the endpoint said.
TEST_F(NatStage, PathMtuErrorsAreTranslatedBackWithTheirMtu) {
  open(key(ip6_client, vip6, 40001, 443, ipproto_tcp), key(pod6, snat6, 8443, 2000, ipproto_tcp));
  mbuf_burst b({too_big_frame(pod4, snat4, tcp_packet(snat4, pod4, 1025, 8080, ACK), 1400),
                too_big_frame(pod6, snat6, tcp_packet(snat6, pod6, 2000, 8443, ACK), 1280)});
  run(b);
  EXPECT_EQ(b.frame(0), too_big_frame(vip4, ip4_client, tcp_packet(ip4_client, vip4, 40000, 80, ACK), 1400));
  EXPECT_EQ(b.frame(1), too_big_frame(vip6, ip6_client, tcp_packet(ip6_client, vip6, 40001, 443, ACK), 1280));
  EXPECT_EQ(c.nat.icmp_errors_translated, 2u);
}

TEST_F(NatStage, PacketsOtherStagesDecidedAreLeftAlone) {
  bytes f0 = tcp_frame(ip4_client, vip4, 40000, 80, ACK);
  mbuf_burst b({f0});
  pkt_meta meta[1];
  parse_burst(b.data(), meta, 1, c);
  conntrack_burst(b.data(), meta, 1, cs, f.gone(), c);
  meta[0].v = verdict::handoff;
  nat_burst(b.data(), meta, 1, s, f.table, c);
  EXPECT_EQ(b.frame(0), f0);
  EXPECT_EQ(meta[0].v, verdict::handoff);
}

}  // namespace
}  // namespace kgw


namespace kgw {
namespace {

using namespace kgw::test;

// An SCTP association through the same VIP, translated SNAT:1026 -> pod:3869.
struct NatSctpStage : NatStage {
  uint32_t sid = open(key(ip4_client, vip4, 40000, 3868, ipproto_sctp), key(pod4, snat4, 3869, 1026, ipproto_sctp));
  bytes data = sctp_chunk(sctp_chunk_data, bytes(100, 0x44));
};

TEST_F(NatSctpStage, WithoutTheOffloadTheCrcIsComputedHere) {
  mbuf_burst b({sctp_frame(ip4_client, vip4, 40000, 3868, 9, data), sctp_frame(pod4, snat4, 3869, 1026, 7, data)});
  auto meta = run(b);
  EXPECT_EQ(b.frame(0), sctp_frame(snat4, pod4, 1026, 3869, 9, data));
  EXPECT_EQ(b.frame(1), sctp_frame(vip4, ip4_client, 3868, 40000, 7, data));
  EXPECT_EQ(b.data()[0]->ol_flags & RTE_MBUF_F_TX_SCTP_CKSUM, 0u);
  EXPECT_EQ(c.nat.sctp_crc_offloaded, 0u);
}

TEST_F(NatSctpStage, WithTheOffloadTheMbufAsksTheNicAndTcpIsUntouched) {
  s.sctp_crc_offload = true;
  mbuf_burst b({sctp_frame(ip4_client, vip4, 40000, 3868, 9, data), tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  auto meta = run(b);
  // The packet as the NIC gets it: new addresses and ports, a zero checksum
  // field it fills in.
  bytes want = sctp_frame(snat4, pod4, 1026, 3869, 9, data);
  for (size_t i = 14 + 20 + 8; i < 14 + 20 + 12; ++i) want[i] = 0;
  EXPECT_EQ(b.frame(0), want);
  rte_mbuf* mb = b.data()[0];
  EXPECT_EQ(mb->ol_flags & (RTE_MBUF_F_TX_SCTP_CKSUM | RTE_MBUF_F_TX_IPV4),
            RTE_MBUF_F_TX_SCTP_CKSUM | RTE_MBUF_F_TX_IPV4);
  EXPECT_EQ(mb->l2_len, 14u);
  EXPECT_EQ(mb->l3_len, 20u);
  EXPECT_EQ(c.nat.sctp_crc_offloaded, 1u);
  // TCP in the same burst: as without the offload.
  EXPECT_EQ(b.frame(1), tcp_frame(snat4, pod4, 1025, 8080, ACK));
  EXPECT_EQ(b.data()[1]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::tx);
}

TEST_F(NatSctpStage, WithTheOffloadIpv6SaysSo) {
  s.sctp_crc_offload = true;
  open(key(ip6_client, vip6, 40000, 3868, ipproto_sctp), key(pod6, snat6, 3869, 1026, ipproto_sctp));
  mbuf_burst b({sctp_frame(ip6_client, vip6, 40000, 3868, 9, data)});
  run(b);
  rte_mbuf* mb = b.data()[0];
  EXPECT_EQ(mb->ol_flags & (RTE_MBUF_F_TX_SCTP_CKSUM | RTE_MBUF_F_TX_IPV6),
            RTE_MBUF_F_TX_SCTP_CKSUM | RTE_MBUF_F_TX_IPV6);
  EXPECT_EQ(mb->l3_len, 40u);
}

}  // namespace
}  // namespace kgw
