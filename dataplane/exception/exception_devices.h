// The exception path's kernel interfaces as DPDK virtual devices: which
// driver (virtio-user over vhost-net where the host has it, else TAP) and the
// --vdev arguments that make one per port.
#pragma once

#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

// "virtio-user" or "tap": the configured one, or for `auto` virtio-user
// when /dev/vhost-net can be opened for reading and writing.
std::string exception_driver(const exception_config& e);

// ethdev name of port `index`'s exception device for `driver`.
std::string exception_device_name(const std::string& driver, size_t index);

// --vdev value of port `index`'s exception device: the kernel interface
// named by exception_interface_name().
std::string exception_vdev(const exception_config& e, const std::string& driver, size_t index);

// Every port's --vdev value, in port order; none when the path is off.
std::vector<std::string> exception_vdevs(const gateway_config& cfg, const std::string& driver);

}  // namespace kgw
