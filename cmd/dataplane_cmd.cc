// kgw dataplane -c gateway.yaml [-- EAL args]

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/publish/initial_services.h"
#include "control/publish/published_policy.h"
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
  std::string config, profiles, manifests, level;
  bool no_final_stats = false;
  parse_flags("dataplane", argc, argv,
              {{"config", 'c', &config}, {"profiles", 0, &profiles}, {"manifests", 'm', &manifests},
               {"log-level", 0, &level}, {"no-final-stats", 0, nullptr, &no_final_stats}},
              help);
  if (config.empty()) usage_error("dataplane", "-c gateway.yaml is required");
  auto cfg = load_config_or_report(config);
  if (!cfg) return 1;
  dataplane_options o{*cfg, resolve_profiles_dir(&*cfg, profiles), extra, !no_final_stats, {}};
  std::string error;
  if (!manifests.empty() && !initial_services_from(*cfg, manifests, o.initial_services, error, &o.http_proxy, &o.initial_tls,
                                                   &o.initial_pod_routes)) {
    log_error("{}", error);
    return 1;
  }
  if (!manifests.empty() && !initial_policy_from(manifests, o.initial_policy, error)) {
    log_error("{}", error);
    return 1;
  }
  return run_dataplane(std::move(o));
}

}  // namespace kgw
