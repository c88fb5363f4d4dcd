// kgw: one binary, several tools (like `ip` or `kubectl`).
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "cmd/subcommands.h"

namespace {

struct subcommand {
  const char* name;
  int (*main)(int, char**);
  const char* summary;
};

const subcommand subcommands[] = {
    {"dataplane", kgw::dataplane_main, "run the DPDK dataplane (primary process) from gateway.yaml"},
    {"control", kgw::control_main, "run the slow-path control process attached to the dataplane"},
    {"cli", kgw::cli_main, "testpmd-style shell attached to the dataplane (show/clear port stats, lcores, counters)"},
    {"replay", kgw::replay_main, "run the dataplane offline over a pcap file, deterministically"},
    {"validate", kgw::validate_main, "check gateway.yaml and NIC profiles without starting anything"},
    {"route-check", kgw::route_check_main, "show which Ingress backend a host and path reach; check test cases"},
    {"policy-check", kgw::policy_check_main, "show whether NetworkPolicy allows a flow between Pods; check test cases"},
    {"dns-check", kgw::dns_check_main, "show what the workers answer to a DNS query, from a manifests directory"},
};

void usage(std::FILE* out) {
  fmt::print(out,
             "Usage: kgw <command> [options]\n\n"
             "kgw is a DPDK userspace gateway for Kubernetes networking.\n\nCommands:\n");
  for (const auto& s : subcommands) fmt::print(out, "  {:<12} {}\n", s.name, s.summary);
  fmt::print(out,
             "\n`kgw <command> --help` documents each command's flags.\n"
             "Docs: docs/ (gateway-config.md, cli.md, nic-profiles.md).\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    fmt::print("kgw {}\n", KGW_VERSION);
    return 0;
  }
  for (const auto& s : subcommands) {
    if (cmd == s.name) {
      // The subcommand sees itself as argv[0] so that getopt's messages name it.
      std::string self = std::string("kgw ") + s.name;
      argv[1] = self.data();
      return s.main(argc - 1, argv + 1);
    }
  }
  fmt::print(stderr, "kgw: unknown command \"{}\"\n\n", cmd);
  usage(stderr);
  return 2;
}
