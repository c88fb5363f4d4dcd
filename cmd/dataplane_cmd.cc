// kgw dataplane -c gateway.yaml [-- EAL args]
#include <getopt.h>

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/publish/initial_services.h"
#include "dataplane/dataplane.h"
#include "dataplane/log.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw dataplane -c gateway.yaml [options] [-- EAL args]\n"
    "\n"
    "Runs the packet-processing dataplane (DPDK primary process): brings up every\n"
    "port of gateway.yaml from its NIC profile, starts one worker lcore per\n"
    "`workers`, and serves control and `kgw cli` over shared memory. Stops on\n"
    "SIGINT/SIGTERM and prints final statistics.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway config (required); see docs/gateway-config.md\n"
    "  -m, --manifests DIR    Services and EndpointSlices to serve, compiled at start\n"
    "                         (live updates come from `kgw control`); see docs/services.md\n"
    "      --profiles DIR     NIC profile directory (default: config's profiles_dir,\n"
    "                         $KGW_PROFILES_DIR, or nic-profiles/ of the install/source tree)\n"
    "      --log-level LEVEL  error, warn, info (default) or debug\n"
    "      --no-final-stats   do not print statistics on exit\n"
    "  -h, --help             this text\n"
    "\n"
    "EAL arguments after `--` are appended to the ones kgw derives from the config\n"
    "(--lcores, --file-prefix, -a/--vdev per port), e.g. `-- --no-huge -m 512` or\n"
    "`-- --socket-mem 256`.\n";
}  // namespace

int dataplane_main(int argc, char** argv) {
  auto extra = eal_args_after_dashdash(argc, argv);
  std::string config, profiles, manifests;
  bool final_stats = true;
  static option opts[] = {{"config", required_argument, nullptr, 'c'},
                          {"profiles", required_argument, nullptr, 'p'},
                          {"manifests", required_argument, nullptr, 'm'},
                          {"log-level", required_argument, nullptr, 'L'},
                          {"no-final-stats", no_argument, nullptr, 'S'},
                          {"help", no_argument, nullptr, 'h'},
                          {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:m:h", opts, nullptr)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 'p': profiles = optarg; break;
      case 'm': manifests = optarg; break;
      case 'L': {
        log_level l;
        if (!parse_log_level(optarg, l)) usage_error("dataplane", fmt::format("unknown log level \"{}\"", optarg));
        set_log_level(l);
        break;
      }
      case 'S': final_stats = false; break;
      case 'h': fmt::print("{}", help); return 0;
      default: usage_error("dataplane", "bad option");
    }
  }
  if (optind < argc) usage_error("dataplane", fmt::format("unexpected argument \"{}\"", argv[optind]));
  if (config.empty()) usage_error("dataplane", "-c gateway.yaml is required");
  auto cfg = load_config_or_report(config);
  if (!cfg) return 1;
  dataplane_options o{*cfg, resolve_profiles_dir(&*cfg, profiles), extra, final_stats, {}};
  std::string error;
  if (!manifests.empty() && !initial_services_from(*cfg, manifests, o.initial_services, error)) {
    log_error("{}", error);
    return 1;
  }
  return run_dataplane(std::move(o));
}

}  // namespace kgw
