// The kernel's side of an exception interface: the port's MAC and MTU, the
// node's addresses, link up. Set from the slow path at start with the `ip`
// command (iproute2), each invocation logged.
#pragma once

#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "pipelines/common/net_types.h"

namespace kgw {

// The node addresses port `index`'s interface carries, with the prefix
// length of the port's on-link network that holds each (the kernel gets the
// connected route); an address in no port's network goes to port 0's as a
// host address (/32, /128).
std::vector<ip_prefix> kernel_addresses(const gateway_config& cfg, size_t index);

// `ip` argument lists (without "ip") that set up `iface`.
std::vector<std::vector<std::string>> kernel_interface_commands(const std::string& iface, const mac_addr& mac,
                                                                unsigned mtu, const std::vector<ip_prefix>& addrs);

// Runs them; false with `error` at the first that fails.
bool configure_kernel_interface(const std::string& iface, const mac_addr& mac, unsigned mtu,
                                const std::vector<ip_prefix>& addrs, std::string& error);

}  // namespace kgw
