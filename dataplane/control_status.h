// Reading what the control process last did with the manifests (the
// control_status block of the shared state), for the CLI and the metrics.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// A consistent copy of the control status (retries while control is writing it).
control_status read_control_status(const shared_state& s);

// True when `c.pid` names a live process.
bool control_alive(const control_status& c);

}  // namespace kgw
