// `tcp connect` and `tcp transfer`: the words after `tcp`, parsed, run on a
// worker (control/attach/tcp_probe.h) and reported as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "control/attach/tcp_probe.h"

namespace kgw {

struct tcp_command {
  tcp_probe_ask ask;
  bool transfer = false;       // tcp transfer: send IN's bytes, write what comes back to OUT
  std::string in_file, out_file;
};

// `connect [worker N] [timeout MS] ADDR PORT [TEXT...]` or
// `transfer [worker N] [timeout MS] ADDR PORT IN OUT`. TEXT takes the rest of
// the line with \n, \r, \t, \\ and \xHH unescaped. nullopt with `error`.
std::optional<tcp_command> parse_tcp_command(const std::string& words, std::string& error);

// Runs it and describes the outcome; `failed` when no connection was made, or
// a transfer did not end in order with every byte sent.
std::string run_tcp_command(shared_state& s, const tcp_command& c, bool& failed);

// The answer as text: printable ASCII as is, the rest escaped.
std::string printable(const std::string& bytes);

}  // namespace kgw
