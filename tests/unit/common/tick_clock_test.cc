#include "pipelines/common/tick_clock.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace kgw {
namespace {

// The exact value, ticks * 1e9 / hz rounded down, in 128 bits.
uint64_t exact_ns(uint64_t ticks, uint64_t hz) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ticks) * 1000000000u / hz);
}

constexpr uint64_t hour_s = 3600, year_s = 365 * 86400;

struct uptime_case {
  uint64_t hz;
  uint64_t seconds;
};

class tick_clock_uptime : public ::testing::TestWithParam<uptime_case> {};

// The conversion the worker clock had (ticks * 1e9 / hz in 64 bits) wrapped
// after 7 s of a 2.6 GHz TSC; this one is within a nanosecond at any uptime.
TEST_P(tick_clock_uptime, exact_within_a_nanosecond) {
  const auto [hz, seconds] = GetParam();
  tick_clock c = tick_clock::of_hz(hz);
  for (uint64_t extra : std::initializer_list<uint64_t>{0, 1, hz / 3, hz - 1}) {
    uint64_t ticks = seconds * hz + extra;
    uint64_t got = c.to_ns(ticks), want = exact_ns(ticks, hz);
    EXPECT_GE(got, want);
    EXPECT_LE(got - want, 1u) << "ticks " << ticks;
  }
  EXPECT_EQ(c.to_ns(seconds * hz), seconds * 1000000000ull);
}

INSTANTIATE_TEST_SUITE_P(
    uptimes, tick_clock_uptime,
    ::testing::Values(uptime_case{2600000000ull, hour_s}, uptime_case{2600000000ull, year_s},
                      uptime_case{2600000000ull, 100 * year_s}, uptime_case{3000000000ull, 100 * year_s},
                      uptime_case{1000000000ull, 100 * year_s}, uptime_case{25000000ull, year_s},
                      uptime_case{156250000ull, hour_s}, uptime_case{19200000ull, 100 * year_s}));

// A deadline a timeout away is reached at the same tick count whatever the
// uptime: what the conntrack expiry relies on.
TEST(tick_clock, deadlines_are_reached_after_long_uptimes) {
  const uint64_t hz = 2600000000ull;
  tick_clock c = tick_clock::of_hz(hz);
  for (uint64_t start_s : std::initializer_list<uint64_t>{10, hour_s, year_s, 100 * year_s}) {
    uint64_t start = start_s * hz;
    uint64_t deadline = c.to_ns(start) + 10 * 1000000000ull;
    EXPECT_LT(c.to_ns(start + 10 * hz - hz / 1000), deadline);
    EXPECT_GE(c.to_ns(start + 10 * hz), deadline);
  }
}

TEST(tick_clock, monotonic_across_the_old_wrap_point) {
  tick_clock c = tick_clock::of_hz(2600000000ull);
  uint64_t wrap = ~0ull / 1000000000ull;  // where ticks * 1e9 left 64 bits
  uint64_t prev = 0;
  for (uint64_t t = wrap - 1000; t < wrap + 1000; ++t) {
    uint64_t ns = c.to_ns(t);
    EXPECT_GE(ns, prev);
    prev = ns;
  }
  EXPECT_GT(c.to_ns(wrap + 1000), 7000000000ull);
}

TEST(tick_clock, nanosecond_counters_pass_through) {
  tick_clock c = tick_clock::of_hz(1000000000ull);
  for (uint64_t t : std::initializer_list<uint64_t>{0, 1, 123456789, 100 * year_s * 1000000000ull, ~0ull}) EXPECT_EQ(c.to_ns(t), t);
}

TEST(tick_clock, slow_counters_saturate_instead_of_wrapping) {
  tick_clock c = tick_clock::of_hz(1000);  // a millisecond counter
  EXPECT_EQ(c.to_ns(5), 5000000u);
  EXPECT_EQ(c.to_ns(~0ull), ~0ull);
}

}  // namespace
}  // namespace kgw
