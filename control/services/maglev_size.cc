#include "control/services/maglev_size.h"

#include <algorithm>

namespace kgw {

namespace {

// The smallest step with at least `slots` slots, or the top one.
uint32_t step_holding(uint64_t slots) {
  for (uint32_t s : maglev_ladder)
    if (s >= slots) return s;
  return maglev_ladder.back();
}

bool on_ladder(uint32_t size) {
  return std::find(maglev_ladder.begin(), maglev_ladder.end(), size) != maglev_ladder.end();
}

}  // namespace

uint32_t maglev_size_for(size_t ready, uint32_t previous) {
  uint32_t fit = step_holding(uint64_t{ready} * maglev_slots_per_endpoint);
  if (!on_ladder(previous) || fit >= previous) return fit;
  return std::min(previous, step_holding(uint64_t{ready} * maglev_slots_per_endpoint * 2));
}

}  // namespace kgw
