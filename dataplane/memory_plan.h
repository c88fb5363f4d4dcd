// How much hugepage memory the dataplane reserves when it starts.
//
// DPDK grows its heap at run time by mapping more hugepages, and every such
// growth is synchronised with every attached secondary process (control, each
// `kgw cli`). A secondary that is exiting never answers, and the allocation
// fails after five seconds: a `kgw cli` that quit at the wrong moment could
// make the dataplane fail to start or control fail to publish. Reserving the
// memory up front (EAL `-m`, never given back in dynamic memory mode) keeps the
// heap from growing, so no allocation needs the secondaries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

struct memory_plan {
  uint64_t mbuf_pool_bytes = 0;   // one mempool (per NUMA socket in use)
  uint64_t per_worker_bytes = 0;  // connection and affinity tables, the TCP stack and HTTP proxy of one worker
  uint64_t fixed_bytes = 0;       // rings, descriptors, next hops, steering, shared state, counter slots
  uint64_t table_bytes = 0;       // room for the Service records (and those replaced, until freed)
  uint64_t total_mb = 0;          // what `-m` asks for; 0 = reserve nothing
};

// The plan for `cfg`: its own figure when dataplane.memory_mb is set, else the
// sum of the parts rounded up to MiB.
memory_plan plan_memory(const gateway_config& cfg);

// True when the user's extra EAL arguments already size memory themselves.
bool eal_args_size_memory(const std::vector<std::string>& extra);

}  // namespace kgw
