// kgw replay --gateway G --manifests DIR --in in.pcap --out out.pcap
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/publish/initial_services.h"
#include "control/publish/published_policy.h"
#include "dataplane/dataplane.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw replay --gateway gateway.yaml --manifests DIR --in in.pcap --out out.pcap [-- EAL args]\n"
    "\n"
    "Runs the real dataplane code offline with one worker: the config's first port\n"
    "becomes net_pcap reading --in and writing --out; every packet goes through the\n"
    "pipeline in order and every transmitted packet lands in --out in order. Time is\n"
    "the capture's timestamps, and each output packet carries the timestamp of the\n"
    "input packet it came from, so the same input gives the same output byte for byte.\n"
    "Other ports (i > 0) read nothing and write OUT-STEM.<port name>.pcap.\n"
    "Needs no hugepages (runs with --no-huge) and leaves no runtime files\n"
    "(--no-shconf; an --in-memory among the EAL args is implied, and dropped).\n"
    "\n"
    "Options:\n"
    "  -g, --gateway FILE     gateway config (required)\n"
    "  -m, --manifests DIR    Kubernetes manifests (required; may be empty)\n"
    "  -i, --in FILE          input capture (required)\n"
    "  -o, --out FILE         output capture (required)\n"
    "      --profiles DIR     NIC profile directory\n"
    "      --tcp-seed N       the TCP stack's secret seed (ISNs, SYN cookies, timestamp\n"
    "                         offsets; default 0): the same seed, the same segments\n"
    "  -q, --quiet            print no counter summary\n"
    "  -h, --help             this text\n";
}  // namespace

int replay_main(int argc, char** argv) {
  auto extra = eal_args_after_dashdash(argc, argv);
  std::string gateway, manifests, in, out, profiles, tcp_seed;
  bool quiet = false;
  parse_flags("replay", argc, argv,
              {{"gateway", 'g', &gateway}, {"manifests", 'm', &manifests}, {"in", 'i', &in}, {"out", 'o', &out},
               {"profiles", 0, &profiles}, {"tcp-seed", 0, &tcp_seed}, {"quiet", 'q', nullptr, &quiet}},
              help);
  if (gateway.empty() || manifests.empty() || in.empty() || out.empty())
    usage_error("replay", "--gateway, --manifests, --in and --out are required");
  struct stat st{};
  if (stat(manifests.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    fmt::print(stderr, "kgw replay: --manifests {}: not a directory\n", manifests);
    return 2;
  }
  auto cfg = load_config_or_report(gateway);
  if (!cfg) return 1;
  replay_options o{*cfg, resolve_profiles_dir(&*cfg, profiles), {}, in, out, extra, quiet};
  if (!tcp_seed.empty()) {
    char* end = nullptr;
    errno = 0;
    o.tcp_seed = std::strtoull(tcp_seed.c_str(), &end, 0);
    if (errno || *end || tcp_seed[0] == '-') usage_error("replay", "--tcp-seed: expected an unsigned number");
  }
  std::string error;
  if (!initial_services_from(*cfg, manifests, o.initial_services, error, &o.http_proxy, &o.initial_tls,
                                                   &o.initial_pod_routes) ||
      (!manifests.empty() && !initial_policy_from(manifests, o.initial_policy, error))) {
    fmt::print(stderr, "kgw replay: {}\n", error);
    return 1;
  }
  return run_replay(std::move(o));
}

}  // namespace kgw
