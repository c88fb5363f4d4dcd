// Where the DNS names come from: the Services and EndpointSlices of a
// manifests load (control/services), as DNS reads them: the Services the L4
// path skips (headless, ExternalName) included, and the endpoints' hostnames.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "control/services/parsed_manifest.h"
#include "dataplane/config/gateway_config.h"

namespace kgw::dns {

// Every Service of the files (a load's parses, as manifest_cache::parsed
// holds them), with its endpoints when headless. The files must have loaded
// without error (no duplicates).
std::vector<service_entry> services_of(const std::vector<std::shared_ptr<const parsed_file>>& files);

// The same from a manifests directory read anew (the dataplane's start).
// False with `error` when the manifests do not load.
bool services_of_dir(const std::string& dir, std::vector<service_entry>& out, std::string& error);

// The zone, TTL and addresses of gateway.yaml's dns section.
zone_settings zone_settings_of(const gateway_config& cfg);

}  // namespace kgw::dns
