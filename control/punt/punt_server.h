// The slow path's end of the workers' punt rings: packets addressed to the
// gateway that the workers do not answer themselves (not ARP/ND/echo).
// UDP queries to a DNS address (names outside the zones) go to the DNS
// forwarder when gateway.yaml lists dns.upstreams (dns_forwarder.h); the
// rest are counted by kind and freed.
#pragma once

#include <atomic>

#include "control/attach/dataplane_attachment.h"
#include "dataplane/config/gateway_config.h"

namespace kgw {

// Drains every worker's punt ring until `stop`, or until the dataplane is
// gone (then sets `stop`); `cfg` is control's gateway.yaml. Logs the first packet of each kind and the totals.
void serve_punts(dataplane_attachment& dp, const gateway_config& cfg, std::atomic<bool>& stop);

}  // namespace kgw
