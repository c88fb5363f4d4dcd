// One published version of the Services: the compiled tables, whose groups
// and endpoints name their counter slots. Built whole in shared
// memory by whoever compiles (dataplane at start, control later), swapped in by
// one pointer store, freed after an RCU grace period: a worker sees the old
// generation or the new one, never a mix.
#pragma once

#include <cstdint>

#include "pipelines/service/service_table.h"

namespace kgw {

inline constexpr uint64_t service_generation_magic = 0x6b67772d67656e31ull;  // "kgw-gen1"
inline constexpr unsigned max_generation_workers = 64;

// Per lcore, per Service port (group) and per endpoint; summed across lcores on read.
struct lb_counters {
  uint64_t packets;
  uint64_t bytes;
  uint64_t new_flows;
  int64_t active;  // new flows minus removed ones on this lcore
};

// The counters of every Service port and endpoint, outliving generations: each
// group and endpoint of a generation names a slot here by its identity
// (Service, port, protocol, family; plus address and port for an endpoint), so
// a connection made under one generation counts into the same slot under the
// next. Allocated once by the dataplane; slots are assigned by whoever builds
// a generation (dataplane/lb_counter_slots.h).
struct lb_counter_area {
  uint64_t magic;
  uint32_t n_slots;
  uint32_t n_workers;
  uint64_t assignments;  // bumped by every slot assignment (builders cache their index by it)
  uint64_t* identity;    // [n_slots]; 0 = free
  uint64_t* retired_at;  // [n_slots]; the first generation without it, 0 = in use
  lb_counters* counters[max_generation_workers];  // [worker][slot]
};

inline constexpr uint64_t lb_counter_area_magic = 0x6b67772d6c62636eull;  // "kgw-lbcn"

struct service_generation {
  uint64_t magic;
  uint64_t number;        // 1, 2, ... in publication order
  uint64_t size_bytes;    // the whole block
  const service_tables* tables;
  uint32_t n_workers;
  lb_counter_area* counters;  // nullptr: nothing counted
};

}  // namespace kgw
