#include "cmd/common.h"

#include <getopt.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>

#include "dataplane/log.h"

#ifndef KGW_SOURCE_DIR
#define KGW_SOURCE_DIR "."
#endif

namespace kgw {

namespace fs = std::filesystem;

std::optional<gateway_config> load_config_or_report(const std::string& path) {
  std::vector<config_error> errors;
  auto cfg = load_gateway_config(path, errors);
  if (!cfg) {
    for (const auto& e : errors) fmt::print(stderr, "error: {}\n", e.to_string());
    fmt::print(stderr, "{}: {} error{}; nothing started\n", path, errors.size(), errors.size() == 1 ? "" : "s");
  }
  return cfg;
}

std::string resolve_profiles_dir(const gateway_config* cfg, const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (cfg && !cfg->profiles_dir.empty()) {
    fs::path p(cfg->profiles_dir);
    if (p.is_relative()) p = fs::path(cfg->file).parent_path() / p;
    return p.string();
  }
  if (const char* env = std::getenv("KGW_PROFILES_DIR"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& cand : {exe.parent_path().parent_path() / "nic-profiles",
                             exe.parent_path().parent_path() / "share/kgw/nic-profiles"})
      if (fs::is_directory(cand, ec)) return cand.string();
  }
  return std::string(KGW_SOURCE_DIR) + "/nic-profiles";
}

std::vector<std::string> eal_args_after_dashdash(int& argc, char** argv) {
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      for (int j = i + 1; j < argc; ++j) extra.emplace_back(argv[j]);
      argc = i;
      break;
    }
  }
  return extra;
}

void usage_error(const std::string& sub, const std::string& msg) {
  fmt::print(stderr, "kgw {}: {}\nTry `kgw {} --help`.\n", sub, msg, sub);
  std::exit(2);
}

void parse_flags(const std::string& sub, int argc, char** argv, const std::vector<flag>& flags,
                 const std::string& help) {
  // getopt_long's return value names the flag: its letter, or 256 + its index.
  std::vector<option> opts;
  std::string letters = "h";
  for (size_t i = 0; i < flags.size(); ++i) {
    const flag& f = flags[i];
    int has_arg = f.value ? required_argument : no_argument;
    opts.push_back({f.name, has_arg, nullptr, f.letter ? f.letter : static_cast<int>(256 + i)});
    if (f.letter) letters += std::string(1, f.letter) + (f.value ? ":" : "");
  }
  opts.push_back({"help", no_argument, nullptr, 'h'});
  opts.push_back({nullptr, 0, nullptr, 0});
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, letters.c_str(), opts.data(), nullptr)) != -1) {
    if (c == 'h') {
      fmt::print("{}", help);
      std::exit(0);
    }
    const flag* f = nullptr;
    for (size_t i = 0; i < flags.size() && !f; ++i)
      if (c == (flags[i].letter ? flags[i].letter : static_cast<int>(256 + i))) f = &flags[i];
    if (!f) usage_error(sub, "bad option");
    if (f->on) *f->on = true;
    if (!f->value) continue;
    *f->value = optarg;
    if (std::string_view(f->name) == "log-level") {
      log_level l;
      if (!parse_log_level(optarg, l)) usage_error(sub, fmt::format("unknown log level \"{}\"", optarg));
      set_log_level(l);
    }
  }
  if (optind < argc) usage_error(sub, fmt::format("unexpected argument \"{}\"", argv[optind]));
}

}  // namespace kgw
