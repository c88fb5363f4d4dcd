// Reading the shared counters: sums across lcores minus the "clear" baseline,
// and the testpmd-style text the CLI and the final-stats dump print.
#pragma once

#include <string>

#include "dataplane/shared_state.h"

namespace kgw {

// Sum of all workers' counters, less the baselines set by "clear".
lcore_counters sum_counters(const shared_state& s);
lcore_counters worker_counters(const shared_state& s, unsigned worker);
void add_counters(lcore_counters& out, const lcore_counters& a);

// `show port stats N`: NIC counters from the latest snapshot, our own per-port
// counters, and rates since `prev` (the snapshot at the previous show).
std::string format_port_stats(const shared_state& s, unsigned port, const shared_port_stats* prev);
std::string format_port_info(const shared_state& s, unsigned port);
std::string format_lcores(const shared_state& s);
// Every drop reason with its count (all of them, zeros included, when `all`).
std::string format_counters(const shared_state& s, bool all);
// Connections in the workers' tables now.
uint64_t active_connections(const shared_state& s);

}  // namespace kgw
