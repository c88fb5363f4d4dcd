// One published version of the Services: the compiled tables plus, per
// worker, the counters of their groups and endpoints. Built whole in shared
// memory by whoever compiles (dataplane at start, control later), swapped in by
// one pointer store, freed after an RCU grace period: a worker sees the old
// generation or the new one, never a mix.
#pragma once

#include <cstdint>

#include "pipelines/service/service_table.h"

namespace kgw {

inline constexpr uint64_t service_generation_magic = 0x6b67772d67656e31ull;  // "kgw-gen1"
inline constexpr unsigned max_generation_workers = 64;

struct lb_counters;

struct service_generation {
  uint64_t magic;
  uint64_t number;        // 1, 2, ... in publication order
  uint64_t size_bytes;    // the whole block
  const service_tables* tables;
  uint32_t n_workers;
  uint32_t max_groups, max_backends;
  lb_counters* group_counters[max_generation_workers];    // [worker][group]
  lb_counters* backend_counters[max_generation_workers];  // [worker][endpoint]
};

}  // namespace kgw
