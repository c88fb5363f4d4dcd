// `show l7`: each worker's HTTP proxy: its listeners, client and backend
// connections by state, and the endpoints it talks to with their keep-alive
// pools and passive health, asked of the workers (control/attach/l7_snapshot.h).
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

std::string format_l7(shared_state& s);

}  // namespace kgw
