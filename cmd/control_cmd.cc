// kgw control -c gateway.yaml [--manifests DIR] [-i]
#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/control_process.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw control -c gateway.yaml [--manifests DIR] [-i] [-- EAL args]\n"
    "\n"
    "The slow-path process: attaches to the running dataplane (DPDK secondary,\n"
    "the config's dataplane.file_prefix) and takes the packets the workers punt\n"
    "(traffic for the gateway that is not ARP/ND/echo), counting them by kind.\n"
    "With --manifests it compiles the Services and EndpointSlices of DIR, publishes\n"
    "them to the workers, and republishes on every change in DIR (inotify); a\n"
    "rejected change is logged and the running Services stay as they are.\n"
    "Exits when the dataplane goes away or on SIGINT/SIGTERM.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway config (required)\n"
    "  -m, --manifests DIR    Kubernetes manifests to serve and watch; see docs/services.md\n"
    "  -i, --interactive      also open the `kgw cli` shell on this terminal\n"
    "      --log-level LEVEL  error, warn, info (default) or debug\n"
    "  -h, --help             this text\n";
}  // namespace

int control_main(int argc, char** argv) {
  auto extra = eal_args_after_dashdash(argc, argv);
  std::string config, manifests, level;
  bool interactive = false;
  parse_flags("control", argc, argv,
              {{"config", 'c', &config}, {"interactive", 'i', nullptr, &interactive}, {"manifests", 'm', &manifests},
               {"log-level", 0, &level}},
              help);
  if (config.empty()) usage_error("control", "-c gateway.yaml is required");
  auto cfg = load_config_or_report(config);
  if (!cfg) return 1;
  return run_control({*cfg, manifests, interactive, extra});
}

}  // namespace kgw
