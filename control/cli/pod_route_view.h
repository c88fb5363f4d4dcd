// Text view of the pod routes for the CLI: `show pods`.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// The published pod CIDRs, one line each, with the Node that owns it, the
// Node's addresses and VTEP MAC; "no pod routes" when none are published.
std::string format_pod_routes(const shared_state& s);

}  // namespace kgw
