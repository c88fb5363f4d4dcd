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

// getopt_long helpers print "kgw SUB: ..." errors; usage errors exit with 2.
[[noreturn]] void usage_error(const std::string& sub, const std::string& msg);

}  // namespace kgw
