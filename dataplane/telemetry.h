// kgw's own commands on DPDK's telemetry socket, beside DPDK's (/ethdev/...),
// read with dpdk-telemetry.py: /kgw/counters, /kgw/lcores and /kgw/services
// give the figures `kgw cli` shows (docs/operations.md).
#pragma once

#include "pipelines/contract/shared_state.h"

namespace kgw {

// Registers the commands over `s` (once per process; they answer -1 after
// unregister_telemetry, when the state is gone).
void register_telemetry(shared_state& s);
void unregister_telemetry();

}  // namespace kgw
