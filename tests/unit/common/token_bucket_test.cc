#include "pipelines/common/token_bucket.h"

#include <gtest/gtest.h>

namespace kgw {
namespace {

constexpr uint64_t sec = 1000000000ull;

int drain(token_bucket& b, uint64_t now) {
  int n = 0;
  while (b.take(now)) ++n;
  return n;
}

TEST(TokenBucket, StartsFullAndHoldsTheBurst) {
  token_bucket b;
  b.start(100, 5, 7 * sec);
  EXPECT_EQ(drain(b, 7 * sec), 5);
  EXPECT_FALSE(b.take(7 * sec));
}

TEST(TokenBucket, RefillsAtItsRateNotMore) {
  token_bucket b;
  b.start(1000, 10, 0);
  drain(b, 0);
  EXPECT_FALSE(b.take(999999)) << "a millisecond less a nanosecond: no token yet";
  EXPECT_TRUE(b.take(1000000));
  EXPECT_FALSE(b.take(1000000));
  // Tokens come whole at 1 ms; fractions carry over: 2.5 ms then 0.5 ms make three.
  EXPECT_EQ(drain(b, 3500000), 2);
  EXPECT_EQ(drain(b, 4000000), 1);
}

TEST(TokenBucket, IdleTimeAddsAtMostTheBurst) {
  token_bucket b;
  b.start(1000000, 50, 0);
  drain(b, 0);
  EXPECT_EQ(drain(b, 3600 * sec), 50);
  b.start(1, 1000000, 0);  // a full bucket takes 11.6 days at one a second
  drain(b, 0);
  EXPECT_EQ(drain(b, 10 * sec), 10);
}

TEST(TokenBucket, AClockThatGoesBackAddsNothing) {
  token_bucket b;
  b.start(10, 1, 5 * sec);
  EXPECT_TRUE(b.take(5 * sec));
  EXPECT_FALSE(b.take(4 * sec));
  EXPECT_FALSE(b.take(5 * sec));
  EXPECT_TRUE(b.take(5 * sec + sec / 10));
}

// What the exception path's test checks over the wire: in T seconds of a
// flood, at most rate x T + burst pass.
TEST(TokenBucket, AFloodPassesRateTimesTimePlusBurst) {
  token_bucket b;
  b.start(200, 50, 0);
  uint64_t passed = 0;
  for (uint64_t t = 0; t <= 2 * sec; t += 10000) passed += b.take(t);  // 100 kpps for 2 s
  EXPECT_EQ(passed, 200u * 2 + 50);
}

}  // namespace
}  // namespace kgw
