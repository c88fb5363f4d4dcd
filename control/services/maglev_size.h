// How many Maglev slots a Service port gets when gateway.yaml leaves
// `services.maglev_size` to `auto`: a table sized to its endpoints instead of
// one size for all. The Maglev paper's rule is at least 100 slots per
// endpoint; the fill (pipelines/lb/maglev.h) gives every endpoint the same
// number of slots give or take one, so 100 per endpoint bounds the imbalance
// at 1%.
// A few primes, each about four times the one before, keep the number of
// distinct sizes (and so of step changes, which move most flows' slots) small.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kgw {

inline constexpr std::array<uint32_t, 6> maglev_ladder{251, 1021, 4093, 16381, 65537, 262139};
inline constexpr uint32_t maglev_slots_per_endpoint = 100;

// The size for `ready` endpoints, given the size the same Service port had
// before (0: none, or a size not on the ladder). It grows as soon as the
// endpoints outnumber size / 100, but shrinks only once they fit the smaller
// size twice over, so a count that goes back and forth across a step does not
// rebuild the table (and move flows) each time.
uint32_t maglev_size_for(size_t ready, uint32_t previous);

}  // namespace kgw
