#include "dataplane/eal_args.h"

#include <sched.h>

#include <fmt/format.h>

#include "dataplane/exception/exception_devices.h"
#include "dataplane/memory_plan.h"

namespace kgw {

bool is_pci_address(const std::string& d) {
  // 0000:3b:02.0 or 3b:02.0
  auto dot = d.rfind('.');
  if (dot == std::string::npos || d.find(',') != std::string::npos) return false;
  int colons = 0;
  for (char c : d.substr(0, dot)) {
    if (c == ':') ++colons;
    else if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return (colons == 1 || colons == 2) && dot + 2 == d.size() && std::isdigit(static_cast<unsigned char>(d.back()));
}

std::string port_device_name(const std::string& device) {
  auto comma = device.find(',');
  return comma == std::string::npos ? device : device.substr(0, comma);
}

std::vector<unsigned> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

std::vector<std::string> dataplane_eal_args(const gateway_config& cfg,
                                            const std::vector<unsigned>& cpus_allowed,
                                            const std::vector<std::string>& extra) {
  const auto& cpus = cfg.dataplane.cpus.empty() ? cpus_allowed : cfg.dataplane.cpus;
  std::vector<std::string> args{"kgw-dataplane"};
  std::string lcores;
  for (unsigned l = 0; l <= cfg.workers; ++l) {
    // Workers start on the CPU after the main lcore's so that with two CPUs and
    // one worker the worker has a core to itself.
    unsigned cpu = cpus[(l) % cpus.size()];
    lcores += fmt::format("{}{}@{}", l ? "," : "", l, cpu);
  }
  args.push_back("--lcores=" + lcores);
  args.push_back("--main-lcore=0");
  args.push_back("--file-prefix=" + cfg.dataplane.file_prefix);
  args.push_back("--proc-type=primary");
  bool any_pci = false;
  for (const auto& p : cfg.ports) {
    if (is_pci_address(p.device)) {
      args.push_back("-a");
      any_pci = true;
    } else {
      args.push_back("--vdev");
    }
    args.push_back(p.device);
  }
  // The exception path's kernel interfaces, after the ports: port ids of
  // the ports do not move when it is turned on.
  for (const std::string& v : exception_vdevs(cfg, exception_driver(cfg.exception))) {
    args.push_back("--vdev");
    args.push_back(v);
  }
  if (!any_pci) args.push_back("--no-pci");
  if (!cfg.dataplane.telemetry) args.push_back("--no-telemetry");
  if (!eal_args_size_memory(extra)) {
    if (uint64_t mb = plan_memory(cfg).total_mb) {
      args.push_back("-m");
      args.push_back(std::to_string(mb));
    }
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> secondary_eal_args(const std::string& file_prefix,
                                            const std::vector<std::string>& extra) {
  std::vector<std::string> args{"kgw-secondary", "--proc-type=secondary",
                                "--file-prefix=" + file_prefix, "--no-pci",
                                "--log-level=lib.eal:error", "-l", "0"};
  // A secondary must not open the telemetry socket of the primary.
  args.push_back("--no-telemetry");
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace kgw
