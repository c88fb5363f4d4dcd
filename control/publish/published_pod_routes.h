// The pod routes as control hands them to the dataplane: the Nodes of the
// manifests and their pod CIDRs in one block of shared memory
// (pipelines/route/pod_routes.h), sent only when it differs from what runs.
#pragma once

#include <string>
#include <vector>

#include "control/services/node_merge.h"
#include "pipelines/route/pod_routes.h"

namespace kgw {

// Nullptr with `error` when there are more Nodes or CIDRs than the list
// holds, or memory is short.
pod_route_list* build_pod_route_list(const pod_network_model& m, std::string& error);
// Whether two lists hold the same Nodes and CIDRs (the generation aside).
bool same_pod_routes(const pod_route_list* a, const pod_route_list* b);
void free_pod_route_list(pod_route_list* l);

}  // namespace kgw
