// `show config status`: what the control process last did with the manifests.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// Whether the control process that last wrote the status still runs, the
// manifests directory, attempts (accepted, rejected), the generation running,
// and for the last attempt: when, how long, and the errors if it was rejected.
std::string format_config_status(const shared_state& s);

}  // namespace kgw
