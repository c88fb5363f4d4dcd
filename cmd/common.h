// Helpers shared by the kgw subcommands: loading gateway.yaml with readable
// errors, finding nic-profiles/, splitting EAL arguments after `--`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

// Prints every error to stderr ("FILE:LINE:COL: FIELD: message") and returns nullopt on failure.
std::optional<gateway_config> load_config_or_report(const std::string& path);

// profiles_dir from the config (relative to the config file), else $KGW_PROFILES_DIR,
// else nic-profiles/ beside the binary's parent, else the source tree's.
std::string resolve_profiles_dir(const gateway_config* cfg, const std::string& flag_value);

// Splits argv at the first "--": what comes after goes to EAL.
std::vector<std::string> eal_args_after_dashdash(int& argc, char** argv);

// Usage errors print "kgw SUB: MSG" and a hint, and exit with 2.
[[noreturn]] void usage_error(const std::string& sub, const std::string& msg);

// One flag of a subcommand: its long name, its one-letter name (0: none),
// and where it goes: `value` for a flag that takes an argument; `on` is set
// when the flag is given (for a flag with a value too, to tell an empty value
// from none). The flag "log-level" sets the log level as it is parsed.
struct flag {
  const char* name;
  char letter;
  std::string* value = nullptr;
  bool* on = nullptr;
};

// Parses the flags of `kgw SUB` (after `--` was split off): -h/--help prints
// `help` and exits 0; an unknown flag, a bad log level or a stray argument is
// a usage error.
void parse_flags(const std::string& sub, int argc, char** argv, const std::vector<flag>& flags,
                 const std::string& help);

}  // namespace kgw
