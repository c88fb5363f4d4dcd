#include "dataplane/expiry_pace.h"

#include <gtest/gtest.h>

namespace kgw {
namespace {

TEST(ExpiryPace, ABucketPerIntervalWithTheRemainderCarried) {
  expiry_pace p{.ns_per_bucket = 1000, .max_step = 256, .last_ns = 10'000};
  EXPECT_EQ(p.due(10'999), 0u);
  EXPECT_EQ(p.due(11'500), 1u);  // 11,000 due; 500 ns carried
  EXPECT_EQ(p.due(12'600), 1u);  // 12,000
  EXPECT_EQ(p.due(15'000), 3u);  // 13,000..15,000
  EXPECT_EQ(p.due(15'000), 0u);
  // Over a long run the count follows the time, whatever the call pattern.
  unsigned total = 0;
  for (uint64_t t = 15'000; t <= 115'000; t += 333) total += p.due(t);
  EXPECT_EQ(total, 99u);  // the last call at 114,900: 99 intervals due (15,000 -> 114,000)
}

TEST(ExpiryPace, CappedAndNoDebtAfterAStall) {
  expiry_pace p{.ns_per_bucket = 1000, .max_step = 256, .last_ns = 0};
  EXPECT_EQ(p.due(5'000'000'000), 256u);  // the first call: a step, not five million buckets
  EXPECT_EQ(p.due(5'000'000'999), 0u);
  EXPECT_EQ(p.due(5'000'001'000), 1u);
  EXPECT_EQ(p.due(5'001'000'000), 256u);  // a millisecond held up: capped, the rest forgotten
  EXPECT_EQ(p.due(5'001'000'500), 0u);
}

TEST(ExpiryPace, AClockThatDoesNotMoveGivesNothing) {
  expiry_pace p{.ns_per_bucket = 1000, .max_step = 256, .last_ns = 7'000};
  EXPECT_EQ(p.due(7'000), 0u);
  EXPECT_EQ(p.due(6'000), 0u);
  EXPECT_EQ(p.last_ns, 7'000u);
}

}  // namespace
}  // namespace kgw
