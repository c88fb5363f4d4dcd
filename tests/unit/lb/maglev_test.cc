#include "pipelines/lb/maglev.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace kgw {
namespace {

std::vector<uint64_t> keys_for(unsigned n, unsigned first = 0) {
  std::vector<uint64_t> k;
  for (unsigned i = first; i < first + n; ++i) k.push_back(maglev_backend_key("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080"));
  return k;
}

std::vector<uint16_t> build(const std::vector<uint64_t>& keys, uint32_t m = maglev_default_size) {
  std::vector<uint16_t> t(m);
  EXPECT_TRUE(maglev_build(keys, t));
  return t;
}

// Maps table entries to backend identities so tables over different backend
// lists can be compared slot by slot.
std::vector<uint64_t> owners(const std::vector<uint16_t>& t, const std::vector<uint64_t>& keys) {
  std::vector<uint64_t> o(t.size());
  for (size_t i = 0; i < t.size(); ++i) o[i] = keys[t[i]];
  return o;
}

TEST(Maglev, RejectsNonPrimeSizesAndTooManyBackends) {
  std::vector<uint16_t> t(65536);
  EXPECT_FALSE(maglev_build(keys_for(3), t));
  std::vector<uint16_t> p(7);
  EXPECT_FALSE(maglev_build(std::vector<uint64_t>(70000, 1), p));
}

TEST(Maglev, NoBackendsLeavesEverySlotEmpty) {
  auto t = build({}, 251);
  EXPECT_TRUE(std::all_of(t.begin(), t.end(), [](uint16_t s) { return s == maglev_no_backend; }));
}

TEST(Maglev, EverySlotOwnedAndBalancedWithinOnePercent) {
  for (unsigned n : {1u, 2u, 3u, 7u, 10u, 50u, 100u}) {
    auto t = build(keys_for(n));
    std::vector<uint32_t> count(n);
    for (uint16_t s : t) {
      ASSERT_LT(s, n);
      count[s]++;
    }
    double ideal = double(maglev_default_size) / n;
    for (unsigned i = 0; i < n; ++i)
      EXPECT_LE(std::abs(double(count[i]) - ideal) / ideal, 0.01) << "n=" << n << " backend " << i << " owns " << count[i];
  }
}

TEST(Maglev, RemovingOneOfNMovesAtMostOneNthPlusOnePercent) {
  for (unsigned n : {3u, 5u, 10u, 40u}) {
    auto keys = keys_for(n);
    auto before = owners(build(keys), keys);
    for (unsigned gone : {0u, n / 2, n - 1}) {
      auto fewer = keys;
      fewer.erase(fewer.begin() + gone);
      auto after = owners(build(fewer), fewer);
      size_t moved = 0;
      for (size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i];
      double share = double(moved) / double(before.size());
      EXPECT_LE(share, 1.0 / n + 0.01) << "n=" << n << " removed " << gone << " moved " << share;
    }
  }
}

TEST(Maglev, AddingOneToNMovesAtMostOneOverNPlusOnePlusOnePercent) {
  for (unsigned n : {3u, 5u, 10u, 40u}) {
    auto keys = keys_for(n);
    auto before = owners(build(keys), keys);
    auto more = keys_for(n + 1);
    auto after = owners(build(more), more);
    size_t moved = 0;
    for (size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i];
    EXPECT_LE(double(moved) / double(before.size()), 1.0 / n + 0.01) << "n=" << n;
  }
}

TEST(Maglev, SameBackendsSameTableRegardlessOfNode) {
  // Two gateway nodes with the same endpoint list build identical tables.
  EXPECT_EQ(build(keys_for(9)), build(keys_for(9)));
  EXPECT_EQ(maglev_backend_key("10.0.0.1:80"), maglev_backend_key("10.0.0.1:80"));
  EXPECT_NE(maglev_backend_key("10.0.0.1:80"), maglev_backend_key("10.0.0.2:80"));
}

// Nodes may list the same endpoints in another order (EndpointSlices merged
// in another order, a slice split differently): every slot must still name
// the same endpoint.
TEST(Maglev, SameSetInAnotherOrderSameTable) {
  for (unsigned n : {2u, 3u, 10u, 41u, 300u}) {
    for (uint32_t m : {251u, 1021u, 16381u}) {
      auto keys = keys_for(n);
      auto want = owners(build(keys, m), keys);
      auto reversed = keys;
      std::reverse(reversed.begin(), reversed.end());
      EXPECT_EQ(owners(build(reversed, m), reversed), want) << n << " backends, " << m << " slots, reversed";
      auto rotated = keys;
      std::rotate(rotated.begin(), rotated.begin() + n / 3, rotated.end());
      EXPECT_EQ(owners(build(rotated, m), rotated), want) << n << " backends, " << m << " slots, rotated";
      auto shuffled = keys;
      for (size_t i = shuffled.size(); i > 1; --i) std::swap(shuffled[i - 1], shuffled[(i * 7919u) % i]);
      EXPECT_EQ(owners(build(shuffled, m), shuffled), want) << n << " backends, " << m << " slots, shuffled";
    }
  }
}

// More backends than slots: each gets one slot at most, every slot is owned.
TEST(Maglev, MoreBackendsThanSlots) {
  auto t = build(keys_for(300), 251);
  std::vector<uint32_t> count(300);
  for (uint16_t s : t) {
    ASSERT_LT(s, 300u);
    count[s]++;
  }
  EXPECT_LE(*std::max_element(count.begin(), count.end()), 1u);
}

TEST(Maglev, LookupUsesTheSlot) {
  auto t = build(keys_for(4), 13);
  for (uint32_t h = 0; h < 100; ++h) EXPECT_EQ(maglev_lookup(t.data(), 13, h), t[h % 13]);
}

TEST(Maglev, Primes) {
  EXPECT_TRUE(is_prime(65537));
  EXPECT_TRUE(is_prime(2));
  EXPECT_FALSE(is_prime(1));
  EXPECT_FALSE(is_prime(65535));
}

}  // namespace
}  // namespace kgw
