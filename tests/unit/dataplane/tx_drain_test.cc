#include "dataplane/tx_drain.h"

#include <gtest/gtest.h>

namespace kgw {
namespace {

TEST(TxDrain, NoBoundSendsAtTheEndOfEveryLoop) {
  tx_drain d;
  EXPECT_TRUE(d.due(true, true, 100, 150));
  EXPECT_TRUE(d.due(false, true, 200, 250));
  EXPECT_FALSE(d.due(true, false, 300, 350));  // nothing to send
}

TEST(TxDrain, HoldsWhileRxKeepsComingUntilTheBound) {
  tx_drain d{.bound_tsc = 1000};
  // Loop 1 starts at 0, receives, buffers: held.
  EXPECT_FALSE(d.due(true, true, 0, 300));
  EXPECT_TRUE(d.holding);
  EXPECT_EQ(d.held_since, 0u);
  // Loop 2 receives more: still inside the bound, counted from loop 1's start.
  EXPECT_FALSE(d.due(true, true, 300, 999));
  // Loop 3 ends at the bound: sent, and the next hold starts afresh.
  EXPECT_TRUE(d.due(true, true, 999, 1000));
  EXPECT_FALSE(d.holding);
  EXPECT_FALSE(d.due(true, true, 1000, 1400));
  EXPECT_EQ(d.held_since, 1000u);
}

TEST(TxDrain, ALoopWithoutRxSendsAtOnce) {
  tx_drain d{.bound_tsc = 1000000};
  EXPECT_FALSE(d.due(true, true, 0, 10));
  // The next loop received nothing (the worker is going idle): no wait.
  EXPECT_TRUE(d.due(false, true, 10, 20));
  // A timer's segment in an idle loop leaves in that loop.
  EXPECT_TRUE(d.due(false, true, 20, 30));
}

TEST(TxDrain, ALoopLongerThanTheBoundSendsItsOwnPackets) {
  tx_drain d{.bound_tsc = 1000};
  EXPECT_TRUE(d.due(true, true, 0, 1000));
  EXPECT_FALSE(d.holding);
}

TEST(TxDrain, BuffersEmptiedElsewhereEndTheHold) {
  tx_drain d{.bound_tsc = 1000};
  EXPECT_FALSE(d.due(true, true, 0, 100));
  // Full buffers left on their own during the loop: the hold is over, and
  // what is buffered next is timed from its own loop.
  EXPECT_FALSE(d.due(true, false, 100, 200));
  EXPECT_FALSE(d.holding);
  EXPECT_FALSE(d.due(true, true, 5000, 5100));
  EXPECT_EQ(d.held_since, 5000u);
  EXPECT_FALSE(d.due(true, true, 5100, 5999));
  EXPECT_TRUE(d.due(true, true, 5999, 6000));
}

TEST(TxDrain, BoundFromMicroseconds) {
  EXPECT_EQ(tx_drain_bound_tsc(0, 2600000000ull), 0u);
  EXPECT_EQ(tx_drain_bound_tsc(4, 2600000000ull), 10400u);
  EXPECT_EQ(tx_drain_bound_tsc(1000, 2600000000ull), 2600000u);
}

}  // namespace
}  // namespace kgw
