// `capture start|stop|list`: packet capture from a running dataplane into a
// pcapng file. The capture itself is DPDK's dpdk-dumpcap (a secondary process
// on the dataplane's rte_pdump, which the dataplane initialises at start);
// the CLI starts it detached, keeps its PID in the dataplane's runtime
// directory, and stops it with SIGINT, so a capture outlives the `kgw cli`
// that started it.
#pragma once

#include <optional>
#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

struct capture_command {
  enum class action { start, stop, list } what = action::list;
  std::string port;    // a port name from gateway.yaml or a port id
  std::string file;    // start: the pcapng file to write
  std::string filter;  // start: a libpcap filter (may be empty)
};

// Parses the words after `capture`; nullopt with `error` set when they are
// not "start PORT FILE [FILTER...]", "stop PORT" or "list".
std::optional<capture_command> parse_capture_command(const std::string& rest, std::string& error);

// Runs it against the attached dataplane whose runtime directory is
// `runtime_dir` and whose file prefix is `file_prefix`. Returns the text to
// print; `failed` says whether it is an error.
std::string run_capture_command(const shared_state& s, const capture_command& c, const std::string& runtime_dir,
                                const std::string& file_prefix, bool& failed);

}  // namespace kgw
