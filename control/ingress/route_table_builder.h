// Compiles a route set (ingress_model.h) into the route table a worker reads
// (pipelines/l7/ingress/route_table.h).
#pragma once

#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/ingress/route_table.h"

namespace kgw::ingress {

// Builds the table for `rs` (which must outlive nothing: the table copies what it
// needs). A regex Hyperscan rejects is an error naming the Ingress, rule and path;
// returns false then.
bool build_route_table(const route_set& rs, route_table& out, std::vector<manifest_error>& errors);

}  // namespace kgw::ingress
