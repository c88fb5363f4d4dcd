// `show port info`: what a port was brought up with (the CLI's text view).
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

std::string format_port_info(const shared_state& s, unsigned port);

}  // namespace kgw
