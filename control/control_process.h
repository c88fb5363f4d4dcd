// The control process (DPDK secondary): attaches to a running dataplane,
// publishes the Services of a manifests directory and follows its changes,
// serves the workers' punted packets, and optionally the interactive shell.
#pragma once

#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

struct control_options {
  gateway_config cfg;
  std::string manifests_dir;           // empty: publish nothing
  bool interactive = false;            // also run the CLI on this terminal
  std::vector<std::string> eal_extra;  // after `--` on the command line
};

// Runs until SIGINT/SIGTERM, the end of the shell, or the dataplane's exit.
// Returns the process exit code.
int run_control(const control_options& o);

}  // namespace kgw
