// ICMP "port unreachable" built in place from the packet that caused it, sent
// back where it came from: what a client of kube-proxy gets from a Service with
// no ready endpoint.
#pragma once

#include <cstdint>

#include "pipelines/common/pkt_meta.h"

namespace kgw {

// Rewrites the frame into the error (IPv4: type 3 code 3 quoting the IP header
// and 8 bytes; IPv6: type 1 code 4 quoting as much as fits in 1280 bytes),
// from the address the packet was sent to. False when it does not fit in `cap`.
bool icmp_port_unreachable(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const uint8_t* port_mac);

}  // namespace kgw
