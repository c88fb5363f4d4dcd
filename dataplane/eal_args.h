// Turns gateway.yaml into EAL arguments: lcores pinned to CPUs, one device
// argument per port, the runtime file prefix. Extra user arguments go last so
// they can override.
#pragma once

#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

// Device name as ethdev knows it: the PCI address, or the vdev name before the first comma.
std::string port_device_name(const std::string& device);
bool is_pci_address(const std::string& device);

// `cpus` is what the process may run on (sched_getaffinity); config cpus override it.
// Lcore 0 is the main lcore; lcores 1..workers are workers, spread over the CPUs
// after the main one, wrapping around when there are fewer CPUs than lcores.
std::vector<std::string> dataplane_eal_args(const gateway_config& cfg,
                                            const std::vector<unsigned>& cpus,
                                            const std::vector<std::string>& extra);

// A secondary (control, cli) attaching to the dataplane with this file prefix.
std::vector<std::string> secondary_eal_args(const std::string& file_prefix,
                                            const std::vector<std::string>& extra);

std::vector<unsigned> allowed_cpus();

}  // namespace kgw
