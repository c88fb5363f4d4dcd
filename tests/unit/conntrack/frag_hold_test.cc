// The hold of early fragments (pipelines/conntrack/frag_hold.h) as a
// container: what it releases and in which order, what it gives up for
// room, and what expires. The mbufs are never touched: stand-in pointers.
#include "pipelines/conntrack/frag_hold.h"

#include <gtest/gtest.h>

#include <vector>

#include "pipelines/conntrack/frag_table.h"

namespace kgw {
namespace {

rte_mbuf* pkt(uintptr_t n) { return reinterpret_cast<rte_mbuf*>(n * 64); }

flow_key datagram(uint32_t id, uint8_t last_octet = 2) {
  flow_key k{};
  k.family = 4;
  k.proto = 17;
  k.src[0] = 198, k.src[1] = 18, k.src[3] = last_octet;
  k.dst[0] = 198, k.dst[1] = 18, k.dst[2] = 100, k.dst[3] = 53;
  return frag_key(k, id);
}

struct Hold : ::testing::Test {
  void make(uint32_t mbufs, uint64_t timeout_ns = 100) {
    mem.assign(frag_hold::memory_size(mbufs), 0xee);
    h.init(mem.data(), mbufs, timeout_ns);
  }
  rte_mbuf* hold(uint32_t id, uintptr_t p, uint16_t offset, uint64_t now = 0) {
    flow_key k = datagram(id);
    return h.hold(pkt(p), k, flow_hash(k), offset, now);
  }
  uint32_t release(uint32_t id) {
    flow_key k = datagram(id);
    return h.release(k, flow_hash(k));
  }
  std::vector<rte_mbuf*> released() {
    std::vector<rte_mbuf*> out(64);
    out.resize(h.take_released(out.data(), 64));
    return out;
  }
  std::vector<rte_mbuf*> expired(uint64_t now) {
    std::vector<rte_mbuf*> out(64);
    out.resize(h.take_expired(out.data(), 64, now));
    return out;
  }
  std::vector<uint8_t> mem;
  frag_hold h;
};

TEST_F(Hold, ReleasesADatagramsFragmentsInOffsetOrder) {
  make(8);
  // Last first, as Linux sends some: offsets 370, 185, then (middle-first
  // another time) 10 between them.
  EXPECT_EQ(hold(7, 1, 370), nullptr);
  EXPECT_EQ(hold(7, 2, 185), nullptr);
  EXPECT_EQ(hold(7, 3, 10), nullptr);
  EXPECT_EQ(h.held(), 3u);
  EXPECT_EQ(release(7), 3u);
  EXPECT_EQ(h.held(), 0u);
  EXPECT_EQ(h.released(), 3u);
  EXPECT_EQ(released(), (std::vector<rte_mbuf*>{pkt(3), pkt(2), pkt(1)}));
  EXPECT_EQ(h.released(), 0u);
  EXPECT_EQ(release(7), 0u) << "released once";
}

TEST_F(Hold, InterleavedDatagramsAreToldApart) {
  make(8);
  hold(1, 1, 20);
  hold(2, 2, 20);
  hold(1, 3, 10);
  hold(3, 4, 10);
  flow_key other = datagram(1, 9);  // the same ID from another client
  h.hold(pkt(5), other, flow_hash(other), 10, 0);
  EXPECT_EQ(release(1), 2u);
  EXPECT_EQ(released(), (std::vector<rte_mbuf*>{pkt(3), pkt(1)}));
  EXPECT_EQ(release(3), 1u);
  EXPECT_EQ(release(9), 0u) << "no such datagram";
  EXPECT_EQ(released(), (std::vector<rte_mbuf*>{pkt(4)}));
  EXPECT_EQ(h.held(), 2u);
}

TEST_F(Hold, ExpiresOldestFirstOnTheGivenClock) {
  make(8, 100);
  hold(1, 1, 20, 0);
  hold(2, 2, 20, 50);
  hold(3, 3, 20, 60);
  EXPECT_TRUE(expired(99).empty());
  EXPECT_EQ(expired(100), (std::vector<rte_mbuf*>{pkt(1)}));
  release(2);  // a hole the head passes over
  EXPECT_EQ(expired(200), (std::vector<rte_mbuf*>{pkt(3)}));
  EXPECT_EQ(h.held(), 0u);
  EXPECT_EQ(released(), (std::vector<rte_mbuf*>{pkt(2)})) << "released ones do not expire";
}

TEST_F(Hold, TheOldestHeldMakesRoomAndTheBoundCountsReleasedOnesToo) {
  make(3);
  EXPECT_EQ(hold(1, 1, 20), nullptr);
  EXPECT_EQ(hold(2, 2, 20), nullptr);
  EXPECT_EQ(hold(3, 3, 20), nullptr);
  EXPECT_EQ(hold(4, 4, 20), pkt(1)) << "the oldest given up";
  EXPECT_EQ(h.held(), 3u);
  EXPECT_EQ(release(2), 1u);
  EXPECT_EQ(release(3), 1u);
  EXPECT_EQ(release(4), 1u);
  // Three released, not taken yet: nothing held to give up, the newcomer is.
  EXPECT_EQ(hold(5, 5, 20), pkt(5));
  EXPECT_EQ(released().size(), 3u);
  EXPECT_EQ(hold(5, 5, 20), nullptr);
}

TEST_F(Hold, HolesInTheMiddleAreReusedInOrder) {
  make(4);  // a ring of four positions
  hold(1, 1, 10, 0);
  hold(2, 2, 10, 1);
  hold(3, 3, 10, 2);
  hold(4, 4, 10, 3);
  release(2);
  release(3);
  released();
  // The ring's positions are all taken (1 at the head, 4 at the tail):
  // room is made without giving one up, and the order stays.
  EXPECT_EQ(hold(5, 5, 10, 4), nullptr);
  EXPECT_EQ(hold(6, 6, 10, 5), nullptr);
  EXPECT_EQ(h.held(), 4u);
  EXPECT_EQ(expired(1000), (std::vector<rte_mbuf*>{pkt(1), pkt(4), pkt(5), pkt(6)}));
  EXPECT_EQ(hold(6, 7, 10, 6), nullptr);
  EXPECT_EQ(release(6), 1u);
  EXPECT_EQ(released(), (std::vector<rte_mbuf*>{pkt(7)}));
}

TEST_F(Hold, ALimitThatIsNoPowerOfTwoIsKept) {
  make(5);
  for (uint32_t i = 1; i <= 5; ++i) EXPECT_EQ(hold(i, i, 10), nullptr);
  EXPECT_EQ(hold(6, 6, 10), pkt(1));
  EXPECT_EQ(h.held(), 5u);
}

}  // namespace
}  // namespace kgw
