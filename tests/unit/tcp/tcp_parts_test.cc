// The stack's pure parts: sequence arithmetic, SipHash, SYN cookies, the
// chained checksum, mbuf queues, the memory a connection costs.
#include <random>

#include "pipelines/l7/tcp/mbuf_queue.h"
#include "pipelines/l7/tcp/siphash.h"
#include "pipelines/l7/tcp/syn_cookie.h"
#include "pipelines/l7/tcp/tcb.h"
#include "pipelines/l7/tcp/tcp_checksum.h"
#include "pipelines/l7/tcp/timer_wheel.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

TEST(TcpSeq, ComparesAcrossTheWrap) {
  EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
  EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
  EXPECT_TRUE(seq_leq(5, 5));
  EXPECT_TRUE(seq_in(0xffffffffu, 0xfffffffeu, 2));
  EXPECT_FALSE(seq_in(2, 0xfffffffeu, 2));
  EXPECT_EQ(seq_max(0xfffffff0u, 0x10u), 0x10u);
}

TEST(TcpSipHash, ReferenceVectors) {
  // From the SipHash paper's appendix: key 00..0f.
  sip_key k{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  uint8_t msg[15];
  for (int i = 0; i < 15; ++i) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(k, msg, 15), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(k, msg, 0), 0x726fdb47dd0e0e31ULL);
}

TEST(TcpSynCookie, RoundTripAndExpiry) {
  sip_key key = derive_key(9, 2);
  tcp_tuple t;
  t.family = 4;
  t.lport = 80;
  t.rport = 5555;
  t.raddr[0] = 10;
  const uint64_t now = 1'000'000'000'000ull;
  uint16_t mss = 1400;
  uint32_t c = cookie_make(key, t, 777, now, mss);
  EXPECT_EQ(mss, 1400);
  uint16_t got = 0;
  EXPECT_TRUE(cookie_check(key, t, 777, c, now, got));
  EXPECT_EQ(got, 1400);
  EXPECT_TRUE(cookie_check(key, t, 777, c, now + 100'000'000'000ull, got));  // a counter later
  EXPECT_FALSE(cookie_check(key, t, 777, c, now + 300'000'000'000ull, got));  // too old
  EXPECT_FALSE(cookie_check(key, t, 778, c, now, got));  // another ISN
  tcp_tuple other = t;
  other.rport = 5556;
  EXPECT_FALSE(cookie_check(key, other, 777, c, now, got));
  EXPECT_FALSE(cookie_check(derive_key(10, 2), t, 777, c, now, got));  // another secret
  mss = 1000;
  cookie_make(key, t, 1, now, mss);
  EXPECT_EQ(mss, 536);  // rounded down to what a cookie can say
}

TEST(TcpSynCookie, TimestampCarriesTheOptions) {
  bool ws, sack;
  uint8_t shift;
  uint32_t ts = cookie_ts_encode(1000, true, 7, true);
  EXPECT_LE(ts, 1000u);
  cookie_ts_decode(ts, ws, shift, sack);
  EXPECT_TRUE(ws);
  EXPECT_EQ(shift, 7);
  EXPECT_TRUE(sack);
  cookie_ts_decode(cookie_ts_encode(5000, false, 0, false), ws, shift, sack);
  EXPECT_FALSE(ws);
  EXPECT_FALSE(sack);
}

TEST(TcpChecksum, ChainSumMatchesContiguousAtEverySplit) {
  std::mt19937 rng(3);
  bytes data(301);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  uint16_t want = csum_fold(csum_add_bytes(0, data.data(), data.size()));
  for (int trial = 0; trial < 200; ++trial) {
    // A chain of random (often odd) segment sizes.
    rte_mbuf* head = nullptr;
    rte_mbuf* last = nullptr;
    size_t off = 0;
    while (off < data.size()) {
      size_t n = std::min<size_t>(data.size() - off, 1 + rng() % 40);
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(n)), data.data() + off, n);
      off += n;
      if (last)
        last->next = m;
      else
        head = m;
      last = m;
    }
    EXPECT_EQ(chain_sum16(head, 0, static_cast<uint32_t>(data.size())), want);
    EXPECT_EQ(chain_sum16(head, 7, 100), csum_fold(csum_add_bytes(0, data.data() + 7, 100)));
    rte_pktmbuf_free(head);
  }
}

TEST(TcpMbufQueue, TakesSplitsAndTrims) {
  unsigned in_use = rte_mempool_in_use_count(pool);
  mbuf_queue q;
  bytes d = data_of(3000);
  for (size_t off = 0; off < d.size(); off += 1000) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    std::memcpy(rte_pktmbuf_append(m, 1000), d.data() + off, 1000);
    queue_append_chain(q, m);
  }
  EXPECT_EQ(q.bytes, 3000u);
  EXPECT_EQ(q.segs, 3u);
  queue_trim_front(q, 300);
  uint32_t in;
  rte_mbuf* s = queue_seek(q, 1000, in);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(in, 300u);
  rte_mbuf* m = queue_take(q, 1500, pool);  // 700 + 800 of the next segment
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pkt_len, 1500u);
  EXPECT_EQ(m->nb_segs, 2);
  EXPECT_EQ(linearize(m), bytes(d.begin() + 300, d.begin() + 1800));
  rte_pktmbuf_free(m);
  EXPECT_EQ(q.bytes, 1200u);
  queue_free(q);
  EXPECT_EQ(q.bytes, 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool), in_use);
}

TEST(TcpMemory, AnIdleConnectionCostsUnderOneKiB) {
  // The TCB, its timer wheel node and its share of the hash buckets (at
  // most two per connection); buffers hold mbufs only while data waits.
  size_t per_conn = sizeof(tcb) + sizeof(timer_node) + 2 * sizeof(uint32_t);
  std::printf("per connection: %zu bytes (TCB %zu)\n", per_conn, sizeof(tcb));
  EXPECT_LE(per_conn, 1024u);
  static_assert(sizeof(tcb) <= 1024 - 32, "a TCB must stay under 1 KiB with its wheel node and buckets");
}

}  // namespace
}  // namespace kgw::tcp::test
