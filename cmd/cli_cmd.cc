// kgw cli [--file-prefix P | -g gateway.yaml] [-c "cmd; cmd"] [-f script]
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/cli/cli.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw cli [-g gateway.yaml | --file-prefix PREFIX] [-c \"cmd; cmd\"] [-f FILE] [-- EAL args]\n"
    "\n"
    "Attaches to a running `kgw dataplane` as a DPDK secondary process and opens a\n"
    "testpmd-style shell (tab completion, `help`). With -c or -f the commands run\n"
    "non-interactively and the exit code is the number of failed commands (max 1).\n"
    "\n"
    "Options:\n"
    "  -g, --gateway FILE     read the dataplane's file prefix from this config\n"
    "      --file-prefix P    DPDK file prefix of the dataplane (default: kgw)\n"
    "  -c, --commands TEXT    run these commands (';' or newline separated) and exit\n"
    "  -f, --file FILE        run the commands in FILE ('#' comments) and exit\n"
    "  -h, --help             this text\n"
    "\n";
}  // namespace

int cli_main(int argc, char** argv) {
  auto extra = eal_args_after_dashdash(argc, argv);
  std::string gateway, prefix, commands, file;
  parse_flags("cli", argc, argv,
              {{"gateway", 'g', &gateway}, {"file-prefix", 0, &prefix}, {"commands", 'c', &commands},
               {"file", 'f', &file}},
              help + cli_help_text());
  if (!gateway.empty() && !prefix.empty()) usage_error("cli", "give -g or --file-prefix, not both");
  if (!gateway.empty()) {
    auto cfg = load_config_or_report(gateway);
    if (!cfg) return 1;
    prefix = cfg->dataplane.file_prefix;
  }
  if (prefix.empty()) prefix = "kgw";
  std::vector<std::string> cmds;
  if (!commands.empty()) cmds = split_commands(commands);
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      fmt::print(stderr, "kgw cli: cannot read {}\n", file);
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto more = split_commands(ss.str());
    cmds.insert(cmds.end(), more.begin(), more.end());
  }
  dataplane_attachment dp;
  if (!dp.attach(prefix, extra)) {
    fmt::print(stderr, "kgw cli: {}\n", dp.error());
    return 1;
  }
  cli_context ctx;
  ctx.dp = &dp;
  if (commands.empty() && file.empty()) {
    run_cli_interactive(ctx);
    return 0;
  }
  return run_cli_commands(ctx, cmds) ? 1 : 0;
}

}  // namespace kgw
