// The testpmd-style shell on DPDK's cmdline library: tab completion, `help`,
// show/clear commands over the dataplane's shared state.
#pragma once

#include <string>
#include <vector>

#include "control/attach/dataplane_attachment.h"

namespace kgw {

struct cli_context {
  dataplane_attachment* dp = nullptr;
  shared_port_stats prev[max_ports] = {};  // for "since last show" rates
  int failures = 0;                        // commands that failed (bad args, dataplane errors)
};

// Splits "cmd; cmd" and script text into commands; '#' starts a comment.
std::vector<std::string> split_commands(const std::string& text);

// Runs commands non-interactively; returns the number that failed. Output to stdout.
int run_cli_commands(cli_context& ctx, const std::vector<std::string>& cmds);
// The interactive shell on stdin/stdout until `quit` or EOF.
void run_cli_interactive(cli_context& ctx);

// The command reference printed by `help` (also in docs/cli.md).
std::string cli_help_text();

}  // namespace kgw
