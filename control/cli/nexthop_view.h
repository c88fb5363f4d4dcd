// Text views of the static next hops for the CLI: `show neighbors` and `show routes`.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// Every neighbour entry: address, MAC, port (from gateway.yaml `neighbors:`).
std::string format_neighbors(const shared_state& s);

// Every route, longest prefix first, with the neighbour its gateway resolves to.
std::string format_routes(const shared_state& s);

}  // namespace kgw
