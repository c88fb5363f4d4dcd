// The Kubernetes objects the Services model reads, each parsed and checked
// on its own into its file's parse: a Service (its spec and load-balancer
// status) and an EndpointSlice. Internal to the Services model.
#pragma once

#include <string>

#include "control/services/manifest_reader.h"
#include "control/services/parsed_manifest.h"

namespace kgw::manifest {

// `doc` is a v1 Service named ns/name (identity checked by the caller).
void parse_service(ctx& c, yaml::node doc, parsed_file& st, const std::string& ns, const std::string& name);
// `doc` is a discovery.k8s.io/v1 EndpointSlice named ns/name.
void parse_endpoint_slice(ctx& c, yaml::node doc, parsed_file& st, const std::string& ns,
                          const std::string& name);

// `doc` is a v1 Node named `name` (cluster-scoped).
void parse_node(ctx& c, yaml::node doc, parsed_file& st, const std::string& name);

}  // namespace kgw::manifest
