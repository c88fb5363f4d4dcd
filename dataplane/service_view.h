// Text views of the Services for the CLI: per Service and endpoint counters
// summed over workers, and the connection tables.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/shared_state.h"
#include "pipelines/service/service_directory.h"

namespace kgw {


// The counters of a Service port or endpoint (its `counter` slot) summed over
// the workers; zeros for no_counter or no area.
lb_counters slot_counters(const lb_counter_area* a, uint32_t slot);

// Calls f(record, group index) for every group of every record, in slot
// order. Read while the main lcore may swap records: a record seen is whole,
// and is freed only seconds after it is replaced.
template <typename F>
void for_each_group(const service_directory& d, F&& f) {
  for (uint32_t slot = 0; slot < d.capacity; ++slot)
    if (const service_tables* r = d.record(slot))
      for (uint32_t g = 0; g < r->n_groups; ++g) f(*r, g);
}

// `show service [NAME]`: every Service port with frontends' group counters and
// its endpoints (state, packets, bytes, new and active flows). NAME is
// "namespace/name" or just "name"; empty = all.
std::string format_services(const shared_state& s, const std::string& name);

// `show endpoints [NAME]`: one line per endpoint (its Service port, state and
// counters); NAME as for format_services.
std::string format_endpoints(const shared_state& s, const std::string& name);

// `show conntrack`: up to `limit` connections (both keys, state, endpoint,
// age); `count_only` prints the per-worker totals.
std::string format_conntrack(const shared_state& s, bool count_only, unsigned limit);

}  // namespace kgw
