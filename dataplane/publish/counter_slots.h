// Counter slots that outlive Service records (pipelines/lb/lb_counter_area.h).
// Whoever builds a record gives each of its groups and endpoints the slot of
// the same identity as before, or a free slot for a new identity; once the
// dataplane applied the change, the slots the replaced records named and the
// new ones do not are retired. A retired slot is reused only when the
// generation that dropped it is quiesced (every worker passed its grace
// period, so none can pick it for a new flow any more) and no connection
// counts into it (its active flows summed over the workers are 0); its
// counters start from 0 again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

// The area for `n_slots` slots and `n_workers` workers, zeroed, in shared
// memory (the dataplane, at start); `http`: with the HTTP proxy's rows.
// nullptr with `error` when memory is short.
lb_counter_area* create_counter_area(uint32_t n_slots, unsigned n_workers, bool http, std::string& error);
void free_counter_area(lb_counter_area* a);
size_t counter_area_bytes(uint32_t n_slots, unsigned n_workers, bool http);

struct slot_assignment {
  uint32_t kept = 0;       // identities that had a slot already
  uint32_t added = 0;      // new identities on never-used slots
  uint32_t reused = 0;     // new identities on reclaimed slots
  uint32_t retired = 0;    // slots whose identity the new records lack
  uint32_t uncounted = 0;  // identities left without a slot: the area is full
};

// Writes the `counter` field of every group and endpoint of record `t`, which
// is about to be published while `quiesced` is the newest generation no
// worker reads anything older than (service_directory::quiesced; 0: none).
// One builder at a time.
slot_assignment assign_counter_slots(lb_counter_area& a, service_record& t, uint64_t quiesced);

// Calls f(uint32_t& slot field) for each group and endpoint of record `t`.
template <typename T, typename F>
void for_each_counter(T& t, F&& f) {
  auto* groups = const_cast<lb_group*>(t.groups());
  auto* backends = const_cast<backend_entry*>(t.backends());
  for (uint32_t gi = 0; gi < t.n_groups; ++gi) {
    f(groups[gi].counter);
    for (uint32_t b = 0; b < groups[gi].n_backends; ++b) f(backends[groups[gi].first_backend + b].counter);
  }
}

// Appends to `out` the slots `old` names that its successor `now` (nullptr:
// the Service is gone) does not.
void dropped_slots(const service_record& old, const service_record* now, std::vector<uint32_t>& out);

// Retires `slots` (dropped by the records of generation `number`) unless
// retired already.
void retire_counter_slots(lb_counter_area& a, const std::vector<uint32_t>& slots, uint64_t number);

struct slot_usage {
  uint32_t in_use = 0;   // named by a record
  uint32_t retired = 0;  // gone from it, waiting to be reused
  uint32_t free = 0;     // never used
};
// A scan of the area (for `show config status` and the metrics).
slot_usage usage_of(const lb_counter_area& a);

// The identities, exposed for tests.
uint64_t group_identity(const service_record& t, const lb_group& g);
uint64_t endpoint_identity(uint64_t group_id, const backend_entry& b);

}  // namespace kgw
