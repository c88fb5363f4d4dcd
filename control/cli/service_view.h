// Text views of the Services for the CLI: per Service and endpoint counters
// summed over workers, and the connection tables.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/stats.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

// `show service [NAME]`: every Service port with frontends' group counters and
// its endpoints (state, packets, bytes, new and active flows). NAME is
// "namespace/name" or just "name"; empty = all.
std::string format_services(const shared_state& s, const std::string& name);

// `show endpoints [NAME]`: one line per endpoint (its Service port, state and
// counters); NAME as for format_services.
std::string format_endpoints(const shared_state& s, const std::string& name);

// `show conntrack`: up to `limit` connections (both keys, state, packets,
// time to expiry), each worker's copied by the worker itself on request;
// `count_only` prints the per-worker totals from the counters.
std::string format_conntrack(shared_state& s, bool count_only, unsigned limit);

}  // namespace kgw
