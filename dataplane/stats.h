// Reading the shared counters: sums across lcores minus the "clear" baseline,
// the counters of Service ports and endpoints, and the testpmd-style text of
// ports, lcores and counters that the dataplane prints on exit and the CLI shows.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pipelines/contract/shared_state.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

// Sum of all workers' counters and the main lcore's, less the baselines set by "clear".
lcore_counters sum_counters(const shared_state& s);
// The main lcore's own (the neighbour resolver's), less its baseline.
lcore_counters main_lcore_counters(const shared_state& s);
lcore_counters worker_counters(const shared_state& s, unsigned worker);
// "clear": the worker's counters from now on count from zero; its gauges
// (levels such as connections in the table) read on unchanged.
void take_clear_baseline(shared_state& s, unsigned worker);
void add_counters(lcore_counters& out, const lcore_counters& a);
// Control's DNS forwarder's counters less the "clear" baseline (cache_entries, a level, as it is).
dns_forward_counters dns_forward_counts(const shared_state& s);
// "clear": the forwarder's counters from now on count from zero.
void take_dns_forward_baseline(shared_state& s);

// `show port stats N`: NIC counters from the latest snapshot, our own per-port
// counters, and rates since `prev` (the snapshot at the previous show).
std::string format_port_stats(const shared_state& s, unsigned port, const shared_port_stats* prev);
std::string format_lcores(const shared_state& s);
// The longest gap between two of a worker's poll loop starts, as the bound of
// the highest loop_gaps bucket that counted one ("<13us", ">=12.9ms"; "-": none).
std::string longest_loop_gap(const lcore_counters& c, uint64_t tsc_hz);
// Every drop reason with its count (all of them, zeros included, when `all`).
std::string format_counters(const shared_state& s, bool all);
// Control's DNS forwarder, one line ("dns-forward: ..."): in show counters and show dns.
std::string format_dns_forward(const dns_forward_counters& f);
// Connections in the workers' tables now.
uint64_t active_connections(const shared_state& s);


// The counters of a Service port or endpoint (its `counter` slot) summed over
// the workers; zeros for no_counter or no area.
lb_counters slot_counters(const lb_counter_area* a, uint32_t slot);
// The HTTP proxy's requests to an endpoint (its `counter` slot) summed over
// the workers; nothing when no worker runs the proxy (the area has no rows).
std::optional<endpoint_http_counters> slot_http_counters(const lb_counter_area* a, uint32_t slot);
// Whether the area has the proxy's rows; then sum_http_counters reads them.
bool has_http_rows(const lb_counter_area* a);
endpoint_http_counters sum_http_counters(const lb_counter_area& a, uint32_t slot);

// Calls f(record, group index) for every group of every record, in slot
// order. Read while the main lcore may swap records: a record seen is whole,
// and is freed only seconds after it is replaced.
template <typename F>
void for_each_group(const service_directory& d, F&& f) {
  for (uint32_t slot = 0; slot < d.capacity; ++slot)
    if (const service_record* r = d.record(slot))
      for (uint32_t g = 0; g < r->n_groups; ++g) f(*r, g);
}

// Endpoints gone from their Service's record whose connections still count
// into their slot (retired, active flows > 0), by the slot of their Service
// port: what `show service` lists as "removed" until the flows end. With
// `groups`, only those of these Service port slots.
std::unordered_map<uint32_t, std::vector<uint32_t>> removed_endpoints(
    const lb_counter_area* a, const std::unordered_set<uint32_t>* groups = nullptr);

}  // namespace kgw
