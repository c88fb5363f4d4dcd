// A token bucket over a caller's clock in nanoseconds: `rate` tokens a
// second, at most `burst` saved up. Plain data, one owner, no atomics: a
// worker's or the main lcore's own.
#pragma once

#include <cstdint>

namespace kgw {

struct token_bucket {
  uint32_t rate = 1000;   // tokens per second, > 0
  uint32_t burst = 1000;  // capacity, > 0
  uint32_t tokens = 0;    // set to `burst` by start()
  uint64_t last_ns = 0;   // time the tokens were last counted to

  void start(uint32_t per_second, uint32_t capacity, uint64_t now_ns) {
    rate = per_second;
    burst = capacity;
    tokens = capacity;
    last_ns = now_ns;
  }

  // Takes one token; false when none is left (the caller drops and counts).
  bool take(uint64_t now_ns) {
    refill(now_ns);
    if (!tokens) return false;
    --tokens;
    return true;
  }

 private:
  void refill(uint64_t now_ns) {
    if (now_ns <= last_ns) return;  // a clock that stood still or went back adds nothing
    uint64_t elapsed = now_ns - last_ns;
    // Time for a full bucket is all that counts: longer idle adds nothing
    // more, and keeps the product below from overflowing.
    uint64_t full_ns = (uint64_t{burst} * 1000000000ull + rate - 1) / rate;
    if (elapsed >= full_ns) {
      tokens = burst;
      last_ns = now_ns;
      return;
    }
    uint64_t add = elapsed * rate / 1000000000ull;
    if (!add) return;  // the fraction of a token stays in (now - last_ns)
    tokens = static_cast<uint32_t>(tokens + add < burst ? tokens + add : burst);
    // Advance by the time the whole tokens took, not to now: nothing is lost to rounding.
    last_ns += add * 1000000000ull / rate;
  }
};

}  // namespace kgw
