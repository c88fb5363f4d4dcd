#include "control/cli/tcp_probe_view.h"

#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace kgw {

namespace {

std::vector<std::string> split_words(const std::string& s, size_t& rest_at, size_t max_words) {
  std::vector<std::string> w;
  size_t i = 0;
  while (w.size() < max_words) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i == s.size()) break;
    size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    w.push_back(s.substr(b, i - b));
  }
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  rest_at = i;
  return w;
}

std::optional<unsigned> number(const std::string& s, unsigned lo, unsigned hi) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

bool unescape(const std::string& in, std::string& out, std::string& error) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) {
      error = "TEXT ends with a lone backslash";
      return false;
    }
    switch (in[i]) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
          error = "\\x needs two hex digits";
          return false;
        }
        out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
        i += 2;
        break;
      }
      default:
        error = fmt::format("unknown escape \\{} (\\n \\r \\t \\\\ \\xHH)", in[i]);
        return false;
    }
  }
  return true;
}

std::string ms(uint64_t ns) { return fmt::format("{:.3f} ms", double(ns) / 1e6); }

}  // namespace

std::optional<tcp_command> parse_tcp_command(const std::string& words, std::string& error) {
  static const char* usage =
      "usage: tcp connect [worker N] [timeout MS] ADDR PORT [TEXT] | "
      "tcp transfer [worker N] [timeout MS] ADDR PORT IN_FILE OUT_FILE";
  size_t rest_at = 0;
  std::vector<std::string> w = split_words(words, rest_at, 1);
  tcp_command c;
  if (w.empty() || (w[0] != "connect" && w[0] != "transfer")) {
    error = usage;
    return std::nullopt;
  }
  c.transfer = w[0] == "transfer";
  c.ask.timeout_ms = c.transfer ? 30000 : 3000;
  std::string rest = words.substr(rest_at);
  for (;;) {
    size_t at = 0;
    std::vector<std::string> kv = split_words(rest, at, 2);
    if (kv.size() == 2 && kv[0] == "worker") {
      auto n = number(kv[1], 0, max_workers - 1);
      if (!n) {
        error = fmt::format("worker: expected 0..{}, got {}", max_workers - 1, kv[1]);
        return std::nullopt;
      }
      c.ask.worker = *n;
    } else if (kv.size() == 2 && kv[0] == "timeout") {
      auto n = number(kv[1], 1, 600000);
      if (!n) {
        error = fmt::format("timeout: expected 1..600000 ms, got {}", kv[1]);
        return std::nullopt;
      }
      c.ask.timeout_ms = *n;
    } else {
      break;
    }
    rest = rest.substr(at);
  }
  size_t text_at = 0;
  std::vector<std::string> a = split_words(rest, text_at, c.transfer ? 4 : 2);
  if (a.size() < 2) {
    error = usage;
    return std::nullopt;
  }
  auto addr = parse_ip(a[0]);
  if (!addr) {
    error = fmt::format("not an IP address: {}", a[0]);
    return std::nullopt;
  }
  c.ask.addr = *addr;
  auto port = number(a[1], 1, 65535);
  if (!port) {
    error = fmt::format("port: expected 1..65535, got {}", a[1]);
    return std::nullopt;
  }
  c.ask.port = static_cast<uint16_t>(*port);
  if (c.transfer) {
    if (a.size() != 4 || text_at != rest.size()) {
      error = usage;
      return std::nullopt;
    }
    c.in_file = a[2];
    c.out_file = a[3];
    return c;
  }
  // Without TEXT nothing is sent and our side stays open: whatever the peer
  // says first (a banner) comes back until it closes or the deadline.
  std::string text = rest.substr(text_at);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (!unescape(text, c.ask.send, error)) return std::nullopt;
  c.ask.shutdown = !c.ask.send.empty();
  return c;
}

std::string printable(const std::string& bytes) {
  std::string out;
  for (unsigned char ch : bytes) {
    if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f)) out += static_cast<char>(ch);
    else if (ch == '\r') out += "\\r";
    else out += fmt::format("\\x{:02x}", ch);
  }
  return out;
}

std::string run_tcp_command(shared_state& s, const tcp_command& cmd, bool& failed) {
  failed = true;
  tcp_command c = cmd;
  if (c.transfer) {
    std::ifstream in(c.in_file, std::ios::binary);
    if (!in) return fmt::format("cannot read {}\n", c.in_file);
    std::stringstream ss;
    ss << in.rdbuf();
    c.ask.send = ss.str();
    c.ask.shutdown = true;
    // Room for an echo of everything, and a little more to tell a longer answer.
    c.ask.recv_cap = c.ask.send.size() + 65536;
  }
  tcp_probe_answer a;
  std::string error;
  if (!run_tcp_probe(s, c.ask, a, error)) return fmt::format("tcp {}: {}\n", c.transfer ? "transfer" : "connect", error);
  std::string remote = c.ask.addr.is_v6() ? fmt::format("[{}]:{}", to_string(c.ask.addr), c.ask.port)
                                          : fmt::format("{}:{}", to_string(c.ask.addr), c.ask.port);
  if (!a.connected) {
    std::string from = a.local_port ? fmt::format(" from port {}", a.local_port) : "";
    return fmt::format("  worker {}: {}{}: {}\n", c.ask.worker, remote, from, probe_status_text(a.status));
  }
  std::string local = a.local.is_v6() ? fmt::format("[{}]:{}", to_string(a.local), a.local_port)
                                      : fmt::format("{}:{}", to_string(a.local), a.local_port);
  std::string out = fmt::format(
      "  worker {}: {} -> {} connected in {} ({})\n"
      "  sent {} of {} bytes, received {} bytes{}; {} after {}\n",
      c.ask.worker, local, remote, ms(a.connect_ns),
      a.steered ? "the reply's RSS hash aimed at this worker's queue"
                : "replies not aimed by RSS: the local stage hands them over",
      a.sent, c.ask.send.size(), a.received.size() + a.discarded,
      a.discarded ? fmt::format(" ({} beyond the {} kept)", a.discarded, c.ask.recv_cap) : "",
      probe_status_text(a.status), ms(a.total_ns));
  if (c.transfer) {
    std::ofstream o(c.out_file, std::ios::binary | std::ios::trunc);
    o.write(a.received.data(), static_cast<std::streamsize>(a.received.size()));
    if (!o) return out + fmt::format("cannot write {}\n", c.out_file);
    out += fmt::format("  wrote {} bytes to {}\n", a.received.size(), c.out_file);
    failed = a.status != probe_closed || a.sent != c.ask.send.size() || a.discarded;
    return out;
  }
  failed = false;
  if (!a.received.empty()) {
    out += "---\n" + printable(a.received);
    if (a.received.back() != '\n') out += "\n";
  }
  return out;
}

}  // namespace kgw
