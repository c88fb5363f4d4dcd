// Text views of the next-hop table for the CLI: `show neighbors` and `show routes`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pipelines/contract/shared_state.h"
#include "pipelines/route/nexthop.h"

namespace kgw {

// A private copy of the table the dataplane publishes now, taken so that the
// resolver may replace (and free) it meanwhile; nullptr when there is none.
std::unique_ptr<nexthop_table> copy_nexthops(const shared_state& s);

// One line per entry: `IP MAC PORT STATE AGE SOURCE` (MAC `-` while there is
// none, PORT by name, AGE in seconds since its last change or confirmation,
// SOURCE static or learned). `now_ns` on the resolver's clock.
std::string format_neighbors(const shared_state& s, const nexthop_table& t, uint64_t now_ns);
std::string format_neighbors(const shared_state& s);

// Every route and on-link network, longest prefix first, with the neighbour
// its gateway resolves to.
std::string format_routes(const shared_state& s);

}  // namespace kgw
