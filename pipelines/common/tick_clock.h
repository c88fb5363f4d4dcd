// Converts a free-running counter (the TSC, a NIC's timestamp clock) to
// nanoseconds without overflow at any counter value: ns = ticks * mult >> shift
// in 128-bit arithmetic, with mult and shift chosen once from the counter's
// frequency. `ticks * 1e9 / hz` in 64 bits wraps once ticks passes 1.8e10
// (7 s of a 2.6 GHz TSC), after which deadlines further away are never reached.
#pragma once

#include <cstdint>

namespace kgw {

struct tick_clock {
  uint64_t mult = 1;  // nanoseconds per tick, scaled by 2^shift, rounded up
  unsigned shift = 0;

  // The widest scale whose multiplier still fits 64 bits: the conversion is
  // then exact to within a nanosecond over the counter's whole range.
  static constexpr tick_clock of_hz(uint64_t hz) {
    if (hz == 0) hz = 1;
    // 1e9 < 2^30: the shifted numerator stays inside 128 bits from s = 96 down;
    // s = 0 always fits (1e9 / hz), so the loop ends.
    for (unsigned s = 96;; --s) {
      // Rounded up: a whole second of ticks then gives exactly 1e9 ns, and the
      // excess over ticks < 2^64 stays below a nanosecond.
      unsigned __int128 m = ((static_cast<unsigned __int128>(1000000000u) << s) + hz - 1) / hz;
      if (m >> 64 == 0) return {static_cast<uint64_t>(m), s};
    }
  }

  // Nanoseconds for `ticks`; saturates where the result would not fit 64 bits
  // (a counter slower than 1 GHz running for more than 584 years).
  constexpr uint64_t to_ns(uint64_t ticks) const {
    unsigned __int128 ns = (static_cast<unsigned __int128>(ticks) * mult) >> shift;
    return ns >> 64 ? ~0ull : static_cast<uint64_t>(ns);
  }
};

}  // namespace kgw
