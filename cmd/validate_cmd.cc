// kgw validate -c gateway.yaml [--profiles DIR]
#include <getopt.h>

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/config/nic_profile.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw validate [-c gateway.yaml] [--profiles DIR]\n"
    "\n"
    "Checks a gateway config and the NIC profiles without starting anything.\n"
    "Every error is printed as FILE:LINE:COL: FIELD: message; the exit code is 0\n"
    "when all is valid, 1 otherwise.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway config to check\n"
    "      --profiles DIR     NIC profile directory to check (default: as kgw dataplane finds it)\n"
    "  -h, --help             this text\n";
}  // namespace

int validate_main(int argc, char** argv) {
  std::string config, profiles;
  static option opts[] = {{"config", required_argument, nullptr, 'c'},
                          {"profiles", required_argument, nullptr, 'p'},
                          {"help", no_argument, nullptr, 'h'},
                          {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:h", opts, nullptr)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 'p': profiles = optarg; break;
      case 'h': fmt::print("{}", help); return 0;
      default: usage_error("validate", "bad option");
    }
  }
  if (optind < argc) usage_error("validate", fmt::format("unexpected argument \"{}\"", argv[optind]));
  int failures = 0;
  std::optional<gateway_config> cfg;
  if (!config.empty()) {
    cfg = load_config_or_report(config);
    if (!cfg) failures++;
  }
  std::string dir = resolve_profiles_dir(cfg ? &*cfg : nullptr, profiles);
  std::vector<config_error> errors;
  auto all = load_nic_profiles(dir, errors);
  for (const auto& e : errors) fmt::print(stderr, "{}\n", e.to_string());
  if (!errors.empty()) failures++;
  if (cfg) {
    for (const auto& p : cfg->ports) {
      if (p.profile != "auto" && !profile_by_name(all, p.profile)) {
        fmt::print(stderr, "{}:{}: ports.{}.profile: no NIC profile \"{}\" in {}\n", cfg->file, p.line, p.name,
                   p.profile, dir);
        failures++;
      }
    }
  }
  if (failures) return 1;
  fmt::print("ok: {}{} NIC profiles in {}\n", config.empty() ? "" : config + " valid; ", all.size(), dir);
  return 0;
}

}  // namespace kgw
