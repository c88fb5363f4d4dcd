// A drop and its count in one step: every stage drops through this, so no
// drop is ever left out of `show counters` (each reason has its slot).
#pragma once

#include "pipelines/common/drop_reason.h"
#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"

namespace kgw {

inline void count_drop(pkt_meta& m, drop_reason r, lcore_counters& c) {
  m.drop(r);
  c.drops[static_cast<unsigned>(r)]++;
}

}  // namespace kgw
