// Per-route request statistics of the HTTP proxy: each worker counts, for
// each route's stat slot, requests by status class, a latency histogram and
// bytes. Slots are assigned by control (control/ingress/route_stat_slots.h)
// and carried per route in the published block (ingress_publication.h), so a
// route keeps its slot, and its counts, across publishes.
//
// A slot given to another route gets a new epoch: a worker that finds its
// copy of a slot under an older epoch zeroes it before counting (it is the
// copy's only writer), and readers add up only the copies under the epoch
// the publication names. Counts of a removed route are thus never carried
// over to the route that gets its slot next.
#pragma once

#include <cstdint>
#include <cstring>

namespace kgw::proxy {

// Fixed slots: requests no route took (404, and every answer given before a
// route was chosen: 400, 408, 414, 431 ...), and routes beyond
// ingress.max_route_stats, which share one slot.
inline constexpr uint32_t route_slot_none = 0;
inline constexpr uint32_t route_slot_overflow = 1;
inline constexpr uint32_t route_slots_fixed = 2;
inline constexpr uint32_t route_fixed_epoch = 1;  // the epoch of the fixed slots; assigned ones start above

// Prometheus' default buckets (client_golang DefBuckets), in seconds, and
// +Inf after them.
inline constexpr uint32_t duration_bounds = 11;
inline constexpr uint32_t duration_buckets = duration_bounds + 1;
inline constexpr uint64_t duration_bound_ns[duration_bounds] = {
    5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// The bucket a duration falls in: the first whose bound it does not exceed
// (Prometheus' `le`), duration_bounds for +Inf. Buckets here are counted
// singly; the exposition adds them up.
inline uint32_t duration_bucket(uint64_t ns) {
  uint32_t b = 0;
  while (b < duration_bounds && ns > duration_bound_ns[b]) ++b;
  return b;
}

// One worker's counts of one slot (a cache line and a half; written by that
// worker only).
struct route_stat {
  uint32_t epoch;               // of the route they count; 0: never used
  uint32_t pad;
  uint64_t status[5];           // by status class: [0] 1xx .. [4] 5xx
  uint64_t buckets[duration_buckets];
  uint64_t duration_ns;         // the histogram's sum
  uint64_t bytes_in, bytes_out; // request bytes received, response bytes sent
};

// What one request adds to its slot. `stats` is the worker's row.
inline void route_stat_add(route_stat* stats, uint32_t slot, uint32_t epoch, uint16_t status, uint64_t duration_ns,
                           uint64_t bytes_in, uint64_t bytes_out) {
  route_stat& s = stats[slot];
  if (s.epoch != epoch) {
    std::memset(&s, 0, sizeof s);
    s.epoch = epoch;
  }
  if (status >= 100 && status < 600) s.status[status / 100 - 1]++;
  s.buckets[duration_bucket(duration_ns)]++;
  s.duration_ns += duration_ns;
  s.bytes_in += bytes_in;
  s.bytes_out += bytes_out;
}

}  // namespace kgw::proxy
