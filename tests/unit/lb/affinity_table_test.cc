// ClientIP affinity memory: remember, find, expire, replace the oldest of a full set.
#include "pipelines/lb/affinity_table.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace kgw {
namespace {

struct table {
  std::vector<uint8_t> mem;
  affinity_table t;
  explicit table(uint32_t capacity) : mem(affinity_table::memory_size(capacity)) { t.init(mem.data(), capacity); }
};

std::array<uint8_t, 16> client(uint8_t last) {
  std::array<uint8_t, 16> a{198, 18, 64, last};
  return a;
}

TEST(AffinityTable, RemembersPerGroupAndClientUntilExpiry) {
  table at(64);
  uint32_t e = 0;
  EXPECT_FALSE(at.t.lookup(1, client(1).data(), 0, e));
  at.t.remember(1, client(1).data(), 0x80000007u, 1000);  // values are opaque, the top bit too
  ASSERT_TRUE(at.t.lookup(1, client(1).data(), 999, e));
  EXPECT_EQ(e, 0x80000007u);
  EXPECT_FALSE(at.t.lookup(2, client(1).data(), 999, e)) << "another group";
  EXPECT_FALSE(at.t.lookup(1, client(2).data(), 999, e)) << "another client";
  EXPECT_FALSE(at.t.lookup(1, client(1).data(), 1000, e)) << "expired";
  at.t.remember(1, client(1).data(), 9, 5000);  // refreshed in place
  ASSERT_TRUE(at.t.lookup(1, client(1).data(), 2000, e));
  EXPECT_EQ(e, 9u);
}

TEST(AffinityTable, AFullSetReplacesItsOldestEntry) {
  table at(affinity_table::ways);  // one set: every entry competes
  for (uint8_t i = 0; i < affinity_table::ways; ++i) at.t.remember(7, client(i).data(), i, 100 + i);
  at.t.remember(7, client(99).data(), 99, 1000);  // evicts client 0, the soonest to expire
  uint32_t e = 0;
  EXPECT_FALSE(at.t.lookup(7, client(0).data(), 0, e));
  for (uint8_t i = 1; i < affinity_table::ways; ++i) {
    ASSERT_TRUE(at.t.lookup(7, client(i).data(), 0, e));
    EXPECT_EQ(e, i);
  }
  ASSERT_TRUE(at.t.lookup(7, client(99).data(), 0, e));
  EXPECT_EQ(e, 99u);
}

}  // namespace
}  // namespace kgw
