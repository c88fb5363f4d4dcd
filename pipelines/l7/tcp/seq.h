// Sequence numbers are 32-bit and wrap (RFC 9293 section 3.4): every
// comparison is of the signed difference, valid while the two numbers are
// less than 2^31 apart, which the window sizes (at most 2^30, RFC 7323
// section 2.3) guarantee.
#pragma once

#include <cstdint>

namespace kgw::tcp {

inline constexpr bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline constexpr bool seq_leq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
inline constexpr bool seq_gt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
inline constexpr bool seq_geq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) >= 0; }
inline constexpr uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
inline constexpr uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

// lo <= x < hi in sequence space.
inline constexpr bool seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return seq_geq(x, lo) && seq_lt(x, hi); }

}  // namespace kgw::tcp
