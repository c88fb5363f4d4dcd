#include "pipelines/conntrack/conn_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "pipelines/common/sctp.h"
#include "tests/unit/support/conn_table_fixture.h"

namespace kgw {
namespace {

using table_fixture = test::conn_table_fixture;

constexpr uint64_t sec = 1000000000ull;
constexpr uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

flow_key key4(uint32_t src, uint16_t sport, uint32_t dst = 0xc6120001, uint16_t dport = 80,
              uint8_t proto = IPPROTO_TCP) {
  flow_key k{};
  std::memcpy(k.src, &src, 4);
  std::memcpy(k.dst, &dst, 4);
  k.sport = sport;
  k.dport = dport;
  k.proto = proto;
  k.family = 4;
  return k;
}

TEST(ConnTable, InsertFindsBothDirections) {
  table_fixture f(1024);
  auto orig = key4(0x0a000001, 1000);
  auto reply = key4(0x0a000064, 8080, 0xc61200fa, 40000);
  uint32_t id = f.insert(orig, reply, IPPROTO_TCP, SYN, 0);
  ASSERT_NE(id, conn_none);
  auto h0 = f.lookup(orig, 1);
  auto h1 = f.lookup(reply, 1);
  EXPECT_EQ(h0.id, id);
  EXPECT_EQ(h0.dir, 0);
  EXPECT_EQ(h1.id, id);
  EXPECT_EQ(h1.dir, 1);
  EXPECT_EQ(f.lookup(reverse(orig), 1).id, conn_none);
  EXPECT_EQ(f.table.active(), 1u);
  EXPECT_EQ(f.table.counters().hits, 2u);
  EXPECT_EQ(f.table.counters().misses, 1u);
}

TEST(ConnTable, TcpHandshakeDataFinAndTimeouts) {
  conn_timeouts t;
  table_fixture f(64, t);
  auto o = key4(1, 1), r = reverse(o);
  uint32_t id = f.insert(o, r, IPPROTO_TCP, SYN, 0);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_syn_sent);
  EXPECT_EQ(f.table.at(id).expires_ns(), t.tcp_syn_s * sec);
  f.table.update(id, 1, SYN | ACK, 1 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_syn_recv);
  f.table.update(id, 0, ACK, 2 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_established);
  EXPECT_EQ(f.table.at(id).expires_ns(), 2 * sec + t.tcp_established_s * sec);
  f.table.update(id, 0, FIN | ACK, 3 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_fin_wait);
  f.table.update(id, 1, FIN | ACK, 4 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_time_wait);
  EXPECT_EQ(f.table.at(id).packets[0], 3u);
  EXPECT_EQ(f.table.at(id).packets[1], 2u);
  // A new SYN on the same tuple reopens it.
  f.table.update(id, 0, SYN, 5 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_syn_sent);
  f.table.update(id, 1, RST, 6 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_closed);
  EXPECT_EQ(f.table.at(id).expires_ns(), 6 * sec + t.tcp_closed_s * sec);
}

// update's short path: an established connection's segments without FIN
// or RST (data, ACKs, a stray SYN) move its clock and counts, never its state.
TEST(ConnTable, EstablishedSegmentsMoveOnlyTheClock) {
  conn_timeouts t;
  table_fixture f(64, t);
  auto o = key4(1, 1);
  uint32_t id = f.insert(o, reverse(o), IPPROTO_TCP, ACK, 0);
  ASSERT_EQ(f.table.at(id).state, conn_state::tcp_established);
  f.table.update(id, 1, ACK, 1 * sec);
  f.table.update(id, 0, ACK | 0x08, 2 * sec);  // PSH
  f.table.update(id, 0, SYN, 3 * sec);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_established);
  EXPECT_EQ(f.table.at(id).last_seen_ns, 3 * sec);
  EXPECT_EQ(f.table.at(id).expires_ns(), 3 * sec + t.tcp_established_s * sec);
  EXPECT_EQ(f.table.at(id).packets[0], 3u);
  EXPECT_EQ(f.table.at(id).packets[1], 1u);
  EXPECT_EQ(f.table.embryonic_count(), 0u);
  f.table.update(id, 1, FIN | ACK, 4 * sec);  // not the short path
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_fin_wait);
  EXPECT_EQ(f.table.at(id).expires_ns(), 4 * sec + t.tcp_fin_s * sec);
}

TEST(ConnTable, MidStreamTcpIsEstablishedAndUdpBecomesReplied) {
  table_fixture f(64);
  auto o = key4(1, 1);
  uint32_t id = f.insert(o, reverse(o), IPPROTO_TCP, ACK, 0);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_established);
  auto u = key4(2, 53, 3, 53, IPPROTO_UDP);
  uint32_t uid = f.insert(u, reverse(u), IPPROTO_UDP, 0, 0);
  EXPECT_EQ(f.table.at(uid).state, conn_state::udp_unreplied);
  f.table.update(uid, 0, 0, sec);
  EXPECT_EQ(f.table.at(uid).state, conn_state::udp_unreplied);
  f.table.update(uid, 1, 0, 2 * sec);
  EXPECT_EQ(f.table.at(uid).state, conn_state::udp_replied);
}

TEST(ConnTable, ExpiredConnectionIsAMissAndIsRemoved) {
  conn_timeouts t;
  t.udp_unreplied_s = 5;
  table_fixture f(64, t);
  auto u = key4(2, 53, 3, 53, IPPROTO_UDP);
  uint32_t id = f.insert(u, reverse(u), IPPROTO_UDP, 0, 0);
  f.table.at(id).service = 7;  // the owner's counter slot, handed back on removal
  EXPECT_NE(f.lookup(u, 4 * sec).id, conn_none);
  EXPECT_EQ(f.lookup(u, 5 * sec).id, conn_none);
  EXPECT_EQ(f.table.active(), 0u);
  EXPECT_EQ(f.table.counters().expired, 1u);
  ASSERT_EQ(f.removed.size(), 1u);
  EXPECT_EQ(f.removed[0].service, 7u);
  EXPECT_EQ(f.removed[0].key[0], u);
  EXPECT_EQ(f.lookup(reverse(u), 5 * sec).id, conn_none);
}

TEST(ConnTable, ExpireStepSweepsEveryBucketEventually) {
  conn_timeouts t;
  t.tcp_syn_s = 1;
  table_fixture f(256, t);
  uint32_t inserted = 0;
  for (uint32_t i = 0; i < 200; ++i) inserted += f.insert(key4(i, 1), reverse(key4(i, 1)), IPPROTO_TCP, SYN, 0) != conn_none;
  // A crowded bucket may have refused one or two: they were all seen at this time.
  EXPECT_EQ(f.table.active(), inserted);
  EXPECT_GE(inserted, 195u);
  EXPECT_EQ(f.table.expire_step(0, 1u << 20, f.gone()), 0u);  // nothing expired yet
  unsigned total = 0;
  for (int i = 0; i < 1000 && f.table.active(); ++i) total += f.table.expire_step(2 * sec, 16, f.gone());
  EXPECT_EQ(total, inserted);
  EXPECT_EQ(f.table.active(), 0u);
  EXPECT_EQ(f.removed.size(), inserted) << "each expired one reported once";
}

TEST(ConnTable, FullTableEvictsTheOldestOfTheBucket) {
  table_fixture f(8);
  std::vector<flow_key> keys;
  for (uint32_t i = 0; i < 8; ++i) {
    keys.push_back(key4(i, 1));
    ASSERT_NE(f.insert(keys.back(), reverse(keys.back()), IPPROTO_TCP, SYN, i * sec), conn_none);
  }
  EXPECT_EQ(f.table.active(), 8u);
  // A ninth connection: the oldest connection sharing its bucket makes room.
  auto extra = key4(1000, 1);
  uint32_t bucket = f.table.bucket_index(extra);
  int oldest_in_bucket = -1;
  for (int i = 0; i < 8 && oldest_in_bucket < 0; ++i)
    if (f.table.bucket_index(keys[i]) == bucket || f.table.bucket_index(reverse(keys[i])) == bucket)
      oldest_in_bucket = i;
  // At 10 s nothing has reached the 30 s SYN timeout: this is eviction, not expiry.
  uint32_t id = f.insert(extra, reverse(extra), IPPROTO_TCP, SYN, 10 * sec);
  if (oldest_in_bucket < 0) {
    EXPECT_EQ(id, conn_none);
    EXPECT_EQ(f.table.counters().table_full, 1u);
  } else {
    ASSERT_NE(id, conn_none);
    EXPECT_EQ(f.table.counters().evictions, 1u);
    ASSERT_EQ(f.removed.size(), 1u);
    EXPECT_EQ(f.removed[0].key[0], keys[oldest_in_bucket]) << "the evicted connection is reported";
    EXPECT_EQ(f.lookup(keys[oldest_in_bucket], 10 * sec).id, conn_none);
    EXPECT_NE(f.lookup(extra, 10 * sec).id, conn_none);
  }
  EXPECT_EQ(f.table.active(), 8u);
}

TEST(ConnTable, FullTableWithAnEmptyBucketEvictsFromTheNext) {
  // Capacity 4 gives two buckets. Fill bucket 0 with four connections whose
  // both directions land there; then a connection hashing to the empty bucket
  // 1 finds no free entry there and evicts the oldest of the next bucket (0).
  table_fixture f(4);
  uint32_t placed = 0, i = 1;
  for (; placed < 4 && i < 100000; ++i) {
    auto k = key4(i, 1);
    if (f.table.bucket_index(k) != 0 || f.table.bucket_index(reverse(k)) != 0) continue;
    ASSERT_NE(f.insert(k, reverse(k), IPPROTO_TCP, SYN, 0), conn_none);
    ++placed;
  }
  ASSERT_EQ(placed, 4u);
  ASSERT_EQ(f.table.active(), 4u);
  for (; i < 100000; ++i) {
    auto k = key4(i, 1);
    if (f.table.bucket_index(k) != 1) continue;
    EXPECT_NE(f.insert(k, reverse(k), IPPROTO_TCP, SYN, sec), conn_none);
    EXPECT_EQ(f.table.counters().table_full, 0u);
    EXPECT_EQ(f.table.counters().evictions, 1u);
    EXPECT_EQ(f.table.active(), 4u);
    EXPECT_NE(f.lookup(k, sec).id, conn_none);
    return;
  }
  FAIL() << "no key maps to bucket 1";
}

TEST(ConnTable, RemoveReportsTheConnectionOnce) {
  table_fixture f(64);
  auto o = key4(1, 1);
  uint32_t id = f.insert(o, reverse(o), IPPROTO_TCP, SYN, 0);
  f.table.at(id).backend = 3;
  f.table.remove(id, f.gone());
  f.table.remove(id, f.gone());  // already free: nothing more
  ASSERT_EQ(f.removed.size(), 1u);
  EXPECT_EQ(f.removed[0].backend, 3u);
  EXPECT_EQ(f.table.active(), 0u);
  EXPECT_EQ(f.lookup(o, 1).id, conn_none);
  EXPECT_EQ(f.lookup(reverse(o), 1).id, conn_none);
  f.table.remove(f.insert(o, reverse(o), IPPROTO_TCP, SYN, 0), conn_removal{});  // no hook: nobody told
  EXPECT_EQ(f.removed.size(), 1u);
}

TEST(ConnTable, AConnectionSeenNowIsNotEvicted) {
  // One bucket of eight slots: four connections fill it.
  table_fixture f(4);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_NE(f.insert(key4(i, 1), reverse(key4(i, 1)), IPPROTO_TCP, SYN, sec), conn_none);
  EXPECT_EQ(f.insert(key4(9, 1), reverse(key4(9, 1)), IPPROTO_TCP, SYN, sec), conn_none)
      << "every connection was seen at this time: none is given up";
  EXPECT_EQ(f.table.counters().evictions, 0u);
  f.table.update(0, 0, ACK, 2 * sec);  // the first one is seen again, later
  uint32_t id = f.insert(key4(9, 1), reverse(key4(9, 1)), IPPROTO_TCP, SYN, 2 * sec);
  ASSERT_NE(id, conn_none);
  ASSERT_EQ(f.removed.size(), 1u);
  EXPECT_NE(f.removed[0].key[0], key4(0, 1)) << "the one seen now stays";
  EXPECT_NE(f.lookup(key4(0, 1), 2 * sec).id, conn_none);
}

TEST(ConnTable, ManyFlowsAllFindableAtCapacity) {
  table_fixture f(100000);
  // Each at its own time: a crowded bucket makes room by evicting an older one.
  for (uint32_t i = 0; i < 100000; ++i) {
    auto k = key4(i, static_cast<uint16_t>(i * 7));
    ASSERT_NE(f.insert(k, reverse(k), IPPROTO_UDP, 0, i + 1), conn_none) << i;
  }
  uint64_t found = 0;
  for (uint32_t i = 0; i < 100000; ++i) {
    auto k = key4(i, static_cast<uint16_t>(i * 7));
    found += f.lookup(k, 200000).id != conn_none;
    found += f.lookup(reverse(k), 200000).id != conn_none;
  }
  // Bucket overflow may evict a few; the table must keep nearly all.
  EXPECT_GE(found, 199000u);
  EXPECT_EQ(f.table.active() * 2, found);
}

// Opens a TCP connection through its handshake at `t`: ESTABLISHED.
uint32_t establish(table_fixture& f, const flow_key& k, uint64_t t) {
  uint32_t id = f.insert(k, reverse(k), IPPROTO_TCP, SYN, t);
  if (id == conn_none) return id;
  f.table.update(id, 1, SYN | ACK, t);
  f.table.update(id, 0, ACK, t);
  return id;
}

TEST(ConnTable, ASynFloodTenTimesTheTableKeepsEveryEstablishedConnection) {
  constexpr uint32_t cap = 4096;
  table_fixture f(cap);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 500; ++i) {
    ids.push_back(establish(f, key4(0x0a000000 + i, 40000), sec + i));
    ASSERT_NE(ids.back(), conn_none);
    ASSERT_EQ(f.table.at(ids.back()).state, conn_state::tcp_established);
  }
  EXPECT_EQ(f.table.embryonic_count(), 0u);
  // Ten tables' worth of spoofed SYNs, each from its own source, 1 µs apart,
  // every other one answered by its backend (to an address that never sent it).
  for (uint32_t i = 0; i < 10 * cap; ++i) {
    auto k = key4(0x30000000 + i, static_cast<uint16_t>(i), 0xc6120001, 443);
    uint32_t id = f.insert(k, reverse(k), IPPROTO_TCP, SYN, 2 * sec + i * 1000ull);
    if (id != conn_none && i % 2) f.table.update(id, 1, SYN | ACK, 2 * sec + i * 1000ull + 500);
  }
  EXPECT_EQ(f.table.active(), cap);
  EXPECT_GT(f.table.counters().evictions, 30000u);
  EXPECT_EQ(f.table.counters().evicted_established, 0u);
  EXPECT_EQ(f.table.embryonic_count(), cap - 500);
  for (uint32_t i = 0; i < 500; ++i) {
    auto hit = f.lookup(key4(0x0a000000 + i, 40000), 3 * sec);
    EXPECT_EQ(hit.id, ids[i]) << "established connection " << i << " survives the flood";
  }
}

TEST(ConnTable, AUdpFloodKeepsAnsweredFlows) {
  constexpr uint32_t cap = 4096;
  table_fixture f(cap);
  for (uint32_t i = 0; i < 300; ++i) {
    auto k = key4(0x0a000000 + i, 5353, 0xc6120001, 53, IPPROTO_UDP);
    uint32_t id = f.insert(k, reverse(k), IPPROTO_UDP, 0, sec);
    ASSERT_NE(id, conn_none);
    f.table.update(id, 1, 0, sec);
  }
  for (uint32_t i = 0; i < 10 * cap; ++i) {
    auto k = key4(0x30000000 + i, static_cast<uint16_t>(i), 0xc6120001, 53, IPPROTO_UDP);
    f.insert(k, reverse(k), IPPROTO_UDP, 0, 2 * sec + i * 1000ull);
  }
  EXPECT_EQ(f.table.counters().evicted_established, 0u);
  for (uint32_t i = 0; i < 300; ++i)
    EXPECT_NE(f.lookup(key4(0x0a000000 + i, 5353, 0xc6120001, 53, IPPROTO_UDP), 3 * sec).id, conn_none) << i;
}

TEST(ConnTable, AnEstablishedConnectionGoesOnlyWhenNothingUnassuredIsNear) {
  // All established: the new one must still get in, and says whom it took.
  table_fixture f(64);
  for (uint32_t i = 0; i < 64; ++i) ASSERT_NE(establish(f, key4(i, 1), sec + i), conn_none);
  auto k = key4(1000, 1);
  EXPECT_NE(f.insert(k, reverse(k), IPPROTO_TCP, SYN, 2 * sec), conn_none);
  // One for the entry, maybe one more for a slot in a full bucket.
  EXPECT_GE(f.table.counters().evictions, 1u);
  EXPECT_EQ(f.table.counters().evicted_established, f.table.counters().evictions);
}

TEST(ConnTable, EmbryonicConnectionsAreCountedUntilAssured) {
  table_fixture f(64);
  auto t = key4(1, 1);
  uint32_t tcp = f.insert(t, reverse(t), IPPROTO_TCP, SYN, sec);
  auto u = key4(2, 1, 0xc6120001, 53, IPPROTO_UDP);
  uint32_t udp = f.insert(u, reverse(u), IPPROTO_UDP, 0, sec);
  EXPECT_EQ(f.table.embryonic_count(), 2u);
  f.table.update(tcp, 1, SYN | ACK, sec);
  EXPECT_EQ(f.table.embryonic_count(), 2u) << "a backend answers a spoofed SYN too: not assured by its SYN-ACK";
  f.table.update(tcp, 0, ACK, sec);
  EXPECT_EQ(f.table.embryonic_count(), 1u) << "the client's ACK completes the handshake";
  EXPECT_EQ(f.table.counters().assured, 1u);
  f.table.update(udp, 0, 0, sec);
  EXPECT_EQ(f.table.embryonic_count(), 1u) << "more from the client is no answer";
  f.table.update(udp, 1, 0, sec);
  EXPECT_EQ(f.table.embryonic_count(), 0u) << "a reply assures UDP";
  EXPECT_EQ(f.table.counters().assured, 2u);
  auto late = key4(3, 1);
  uint32_t id = f.insert(late, reverse(late), IPPROTO_TCP, SYN, sec);
  EXPECT_EQ(f.table.embryonic_count(), 1u);
  f.table.remove(id, f.gone());
  EXPECT_EQ(f.table.embryonic_count(), 0u) << "a removed one leaves the count";
  f.insert(late, reverse(late), IPPROTO_TCP, SYN, sec);
  EXPECT_EQ(f.lookup(late, 40 * sec).id, conn_none);
  EXPECT_EQ(f.table.embryonic_count(), 0u) << "an expired SYN leaves the count";
}

TEST(ConnTable, UnderPressureAnUnansweredSynExpiresSooner) {
  conn_timeouts t;
  t.embryonic_under_pressure_s = 3;
  table_fixture f(64, t);
  auto first = key4(0, 1);
  uint32_t id = f.insert(first, reverse(first), IPPROTO_TCP, SYN, sec);
  EXPECT_EQ(f.table.at(id).expires_ns(), sec + 30 * sec) << "a calm table keeps the SYN timeout";
  for (uint32_t i = 1; i < 60; ++i) f.insert(key4(i, 1), reverse(key4(i, 1)), IPPROTO_TCP, SYN, sec);
  ASSERT_GT(f.table.active(), 64u * 7 / 8);
  auto k = key4(100, 1);
  id = f.insert(k, reverse(k), IPPROTO_TCP, SYN, sec);
  ASSERT_NE(id, conn_none);
  EXPECT_EQ(f.table.at(id).expires_ns(), sec + 3 * sec);
  f.table.update(id, 1, SYN | ACK, 2 * sec);
  EXPECT_EQ(f.table.at(id).expires_ns(), 2 * sec + 3 * sec) << "a SYN-ACK does not assure it";
  f.table.update(id, 0, ACK, 2 * sec);
  EXPECT_GT(f.table.at(id).expires_ns(), 2 * sec + 3 * sec) << "established: no longer cut short";
}

TEST(ConnTable, PressureTimeoutZeroTurnsItOff) {
  conn_timeouts t;
  t.embryonic_under_pressure_s = 0;
  table_fixture f(64, t);
  for (uint32_t i = 0; i < 63; ++i) f.insert(key4(i, 1), reverse(key4(i, 1)), IPPROTO_TCP, SYN, sec);
  auto k = key4(100, 1);
  uint32_t id = f.insert(k, reverse(k), IPPROTO_TCP, SYN, sec);
  ASSERT_NE(id, conn_none);
  EXPECT_EQ(f.table.at(id).expires_ns(), sec + 30 * sec);
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

// SCTP chunks as pkt_meta::sctp_chunks carries them.
constexpr uint8_t S_INIT = sctp_bit_init, S_INIT_ACK = sctp_bit_init_ack, S_ECHO = sctp_bit_cookie_echo,
                  S_CACK = sctp_bit_cookie_ack, S_SHUT = sctp_bit_shutdown, S_SHUT_ACK = sctp_bit_shutdown_ack,
                  S_CLOSE = sctp_bit_closes, S_DATA = 0;

TEST(ConnTableSctp, AssociationFromInitToShutdownCompleteWithEachStatesTimeout) {
  conn_timeouts t;
  t.sctp_init_s = 4;
  t.sctp_established_s = 500;
  t.sctp_closing_s = 6;
  t.sctp_closed_s = 7;
  table_fixture f(64, t);
  auto o = key4(1, 1, 0xc6120001, 3868, ipproto_sctp), r = reverse(o);
  uint32_t id = f.insert(o, r, ipproto_sctp, S_INIT, 0);
  auto expect = [&](conn_state s, uint64_t at, uint32_t timeout_s, const char* step) {
    EXPECT_EQ(f.table.at(id).state, s) << step;
    EXPECT_EQ(f.table.at(id).expires_ns(), at + timeout_s * sec) << step;
  };
  expect(conn_state::sctp_cookie_wait, 0, 4, "INIT");
  EXPECT_EQ(f.table.embryonic_count(), 1u);
  f.table.update(id, 1, S_INIT_ACK, 1 * sec);
  expect(conn_state::sctp_cookie_wait, 1 * sec, 4, "INIT ACK");
  f.table.update(id, 0, S_ECHO, 2 * sec);
  expect(conn_state::sctp_cookie_echoed, 2 * sec, 4, "COOKIE ECHO");
  EXPECT_EQ(f.table.embryonic_count(), 1u) << "not assured before the server's COOKIE ACK";
  f.table.update(id, 1, S_CACK, 3 * sec);
  expect(conn_state::sctp_established, 3 * sec, 500, "COOKIE ACK");
  EXPECT_EQ(f.table.embryonic_count(), 0u);
  EXPECT_EQ(f.table.counters().assured, 1u);
  f.table.update(id, 0, S_DATA, 4 * sec);
  f.table.update(id, 1, S_DATA, 5 * sec);
  expect(conn_state::sctp_established, 5 * sec, 500, "DATA and SACK");
  f.table.update(id, 0, S_SHUT, 6 * sec);
  expect(conn_state::sctp_shutdown_sent, 6 * sec, 6, "SHUTDOWN");
  f.table.update(id, 1, S_SHUT, 7 * sec);  // the SHUTDOWN retransmitted or crossing
  expect(conn_state::sctp_shutdown_sent, 7 * sec, 6, "SHUTDOWN again");
  f.table.update(id, 1, S_SHUT_ACK, 8 * sec);
  expect(conn_state::sctp_shutdown_ack_sent, 8 * sec, 6, "SHUTDOWN ACK");
  f.table.update(id, 0, S_SHUT, 8 * sec);
  expect(conn_state::sctp_shutdown_ack_sent, 8 * sec, 6, "a late SHUTDOWN does not go back");
  f.table.update(id, 0, S_CLOSE, 9 * sec);
  expect(conn_state::sctp_closed, 9 * sec, 7, "SHUTDOWN COMPLETE");
  // The client reuses its port: an INIT opens the handshake again.
  f.table.update(id, 0, S_INIT, 10 * sec);
  expect(conn_state::sctp_cookie_wait, 10 * sec, 4, "INIT after close");
  EXPECT_EQ(f.table.embryonic_count(), 1u);
  EXPECT_STREQ(conn_state_name(f.table.at(id).state), "SCTP_COOKIE_WAIT");
}

TEST(ConnTableSctp, AbortClosesFromEveryState) {
  table_fixture f(64);
  const std::vector<std::vector<std::pair<uint8_t, uint8_t>>> paths = {
      {},                                              // COOKIE_WAIT
      {{0, S_ECHO}},                                   // COOKIE_ECHOED
      {{0, S_ECHO}, {1, S_CACK}},                      // ESTABLISHED
      {{0, S_ECHO}, {1, S_CACK}, {1, S_SHUT}},         // SHUTDOWN_SENT
      {{0, S_ECHO}, {1, S_CACK}, {1, S_SHUT_ACK}},     // SHUTDOWN_ACK_SENT
  };
  uint32_t n = 0;
  for (const auto& path : paths)
    for (uint8_t abort_dir : {0, 1}) {
      auto o = key4(100 + n++, 7, 0xc6120001, 3868, ipproto_sctp);
      uint32_t id = f.insert(o, reverse(o), ipproto_sctp, S_INIT, sec);
      for (auto [dir, chunks] : path) f.table.update(id, dir, chunks, sec);
      conn_state before = f.table.at(id).state;
      f.table.update(id, abort_dir, S_CLOSE, 2 * sec);
      EXPECT_EQ(f.table.at(id).state, conn_state::sctp_closed) << conn_state_name(before) << " dir " << int(abort_dir);
      EXPECT_EQ(f.table.at(id).expires_ns(), 2 * sec + conn_timeouts{}.sctp_closed_s * sec);
    }
  EXPECT_EQ(f.table.embryonic_count(), 0u) << "a closed association is no handshake in progress";
}

TEST(ConnTableSctp, APacketOfALostAssociationIsPickedUpWhereItsChunksSay) {
  table_fixture f(64);
  struct want {
    uint8_t chunks;
    conn_state state;
  };
  uint32_t n = 0;
  for (want w : {want{S_DATA, conn_state::sctp_established}, want{S_ECHO, conn_state::sctp_established},
                 want{S_SHUT, conn_state::sctp_shutdown_sent}, want{S_SHUT_ACK, conn_state::sctp_shutdown_ack_sent},
                 want{S_CLOSE, conn_state::sctp_closed}, want{S_INIT, conn_state::sctp_cookie_wait}}) {
    auto o = key4(200 + n++, 9, 0xc6120001, 3868, ipproto_sctp);
    uint32_t id = f.insert(o, reverse(o), ipproto_sctp, w.chunks, sec);
    EXPECT_EQ(f.table.at(id).state, w.state) << int(w.chunks);
  }
  EXPECT_EQ(f.table.embryonic_count(), 1u) << "only the INIT's";
}

TEST(ConnTableSctp, HandshakesAndClosedAssociationsAreEvictedBeforeEstablishedOnes) {
  // Like SYNs and TIME-WAIT: ten tables' worth of INITs (every other one
  // aborted by its endpoint) cannot push out associations both sides use.
  constexpr uint32_t cap = 4096;
  table_fixture f(cap);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 500; ++i) {
    auto o = key4(0x0a000000 + i, 40000, 0xc6120001, 3868, ipproto_sctp);
    uint32_t id = f.insert(o, reverse(o), ipproto_sctp, S_INIT, sec + i);
    ASSERT_NE(id, conn_none);
    f.table.update(id, 0, S_ECHO, sec + i);
    f.table.update(id, 1, S_CACK, sec + i);
    ids.push_back(id);
  }
  EXPECT_EQ(f.table.embryonic_count(), 0u);
  for (uint32_t i = 0; i < 10 * cap; ++i) {
    auto o = key4(0x30000000 + i, static_cast<uint16_t>(i), 0xc6120001, 3868, ipproto_sctp);
    uint32_t id = f.insert(o, reverse(o), ipproto_sctp, S_INIT, 2 * sec + i * 1000ull);
    if (id != conn_none && i % 2) f.table.update(id, 1, S_CLOSE, 2 * sec + i * 1000ull + 500);
  }
  EXPECT_GT(f.table.counters().evictions, 30000u);
  EXPECT_EQ(f.table.counters().evicted_established, 0u);
  for (uint32_t i = 0; i < 500; ++i) {
    auto o = key4(0x0a000000 + i, 40000, 0xc6120001, 3868, ipproto_sctp);
    EXPECT_EQ(f.lookup(o, 3 * sec).id, ids[i]) << "association " << i;
  }
}

TEST(ConnTableSctp, UnderPressureAnInitExpiresSooner) {
  conn_timeouts t;
  t.sctp_init_s = 30;
  t.embryonic_under_pressure_s = 5;
  table_fixture f(64, t);
  for (uint32_t i = 0; i < 60; ++i) {
    auto o = key4(i, 1, 0xc6120001, 3868, ipproto_sctp);
    f.insert(o, reverse(o), ipproto_sctp, S_INIT, sec);
  }
  auto o = key4(99, 1, 0xc6120001, 3868, ipproto_sctp);
  uint32_t id = f.insert(o, reverse(o), ipproto_sctp, S_INIT, sec);
  EXPECT_EQ(f.table.at(id).expires_ns(), sec + 5 * sec);
}

}  // namespace
}  // namespace kgw
