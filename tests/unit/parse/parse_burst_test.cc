// parse_burst over real mbufs.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "pipelines/common/protocols.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/mbufs.h"
#include "tests/unit/support/sctp_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

TEST(ParseBurst, HeadersAcrossSegmentsAreCountedAsMultiseg) {
  bytes f = frame(eth(ethertype_ipv4), ipv4({}, tcp(1, 2, 0x02, bytes(100, 7))));
  bytes head(f.begin(), f.begin() + 40), tail(f.begin() + 40, f.end());
  rte_mbuf* a = mbuf_of(head);
  rte_mbuf* b = mbuf_of(tail);
  ASSERT_EQ(rte_pktmbuf_chain(a, b), 0);
  pkt_meta meta[1];
  lcore_counters c{};
  parse_burst(&a, meta, 1, c);
  EXPECT_EQ(meta[0].why, drop_reason::multiseg_unsupported);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::multiseg_unsupported)], 1u);
  rte_pktmbuf_free(a);
}

TEST(ParseBurst, EachPacketStartsWithoutAConnection) {
  bytes f = frame(eth(ethertype_ipv4), ipv4({}, tcp(1, 2, 0x02)));
  mbuf_burst b({f, f});
  pkt_meta meta[2];
  meta[1].conn = 7;  // what a previous burst left
  meta[1].related = 1;
  lcore_counters c{};
  parse_burst(b.data(), meta, 2, c);
  for (const pkt_meta& m : meta) {
    EXPECT_EQ(m.v, verdict::pending);
    EXPECT_EQ(m.conn, conn_none);
    EXPECT_EQ(m.related, 0);
  }
}

}  // namespace
}  // namespace kgw


namespace kgw {
namespace {

using namespace kgw::test;

TEST(ParseBurst, TheNicsSctpChecksumVerdictIsTrusted) {
  bytes good = sctp_frame(ip4_client, ip4_gw, 1, 2, 3, sctp_chunk(sctp_chunk_data, bytes(8, 1)));
  bytes bad = good;
  bad.back() ^= 1;
  // Unknown: checked in software; GOOD: not checked again; BAD: dropped.
  mbuf_burst b({good, bad, bad, good});
  b.data()[2]->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  b.data()[3]->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
  pkt_meta meta[4];
  lcore_counters c{};
  parse_burst(b.data(), meta, 4, c);
  EXPECT_EQ(meta[0].v, verdict::pending);
  EXPECT_EQ(meta[1].why, drop_reason::sctp_bad_checksum);
  EXPECT_EQ(meta[2].v, verdict::pending) << "the NIC checked it";
  EXPECT_EQ(meta[3].why, drop_reason::sctp_bad_checksum);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::sctp_bad_checksum)], 2u);
}

}  // namespace
}  // namespace kgw
