#include "control/access_log/access_line.h"

#include <algorithm>
#include <arpa/inet.h>

#include <ctime>

#include <fmt/format.h>

namespace kgw {

namespace {

// The length of the valid UTF-8 sequence at p[0..n) (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF); 0 when there is none.
size_t utf8_length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  size_t len = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  for (size_t i = 1; i < len; ++i)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && p[1] < 0xa0) return 0;  // overlong
  if (c == 0xed && p[1] > 0x9f) return 0;  // surrogates
  if (c == 0xf0 && p[1] < 0x90) return 0;  // overlong
  if (c == 0xf4 && p[1] > 0x8f) return 0;  // beyond U+10FFFF
  return len;
}

std::string endpoint_text(uint8_t family, const uint8_t* addr, uint16_t port) {
  char buf[INET6_ADDRSTRLEN];
  if (family != 4 && family != 6) return "";
  if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf)) return "";
  return family == 4 ? fmt::format("{}:{}", buf, port) : fmt::format("[{}]:{}", buf, port);
}

void append_seconds(std::string& out, uint64_t ns) { fmt::format_to(std::back_inserter(out), "{:.6f}", ns / 1e9); }

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) {
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (size_t len = utf8_length(p + i, n - i)) {
      out.append(bytes.data() + i, len);
      i += len;
      continue;
    } else {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
    ++i;
  }
  out += '"';
}

std::string rfc3339_ms(int64_t unix_ms) {
  int64_t s = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - s * 1000);
  time_t t = static_cast<time_t>(s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void append_access_line(std::string& out, const proxy::access_record& r, int64_t unix_ms, std::string_view route) {
  auto field = [&](const char* name) { fmt::format_to(std::back_inserter(out), ",\"{}\":", name); };
  out += "{\"time\":\"";
  out += rfc3339_ms(unix_ms);
  out += '"';
  field("client");
  append_json_string(out, endpoint_text(r.client_family, r.client_addr, r.client_port));
  field("method");
  append_json_string(out, std::string_view(r.method, r.method_len < sizeof r.method ? r.method_len : sizeof r.method));
  field("host");
  append_json_string(out, std::string_view(r.host, r.host_len < sizeof r.host ? r.host_len : sizeof r.host));
  field("path");
  append_json_string(out, std::string_view(r.path, r.path_len < sizeof r.path ? r.path_len : sizeof r.path));
  field("protocol");
  out += r.method_len ? fmt::format("\"HTTP/1.{}\"", r.version_minor) : std::string("\"\"");
  field("status");
  fmt::format_to(std::back_inserter(out), "{}", r.status);
  field("request_bytes");
  fmt::format_to(std::back_inserter(out), "{}", r.bytes_in);
  field("response_bytes");
  fmt::format_to(std::back_inserter(out), "{}", r.bytes_out);
  field("backend");
  append_json_string(out, endpoint_text(r.backend_family, r.backend_addr, r.backend_port));
  field("route");
  append_json_string(out, route);
  field("request_duration");
  append_seconds(out, r.duration_ns);
  field("upstream_connect_time");
  if (r.flags & proxy::access_connected)
    append_seconds(out, r.connect_ns);
  else
    out += "null";
  field("upstream_header_time");
  if (r.flags & proxy::access_header)
    append_seconds(out, r.header_ns);
  else
    out += "null";
  field("request_id");
  if (r.request_id[0] || r.request_id[1]) {
    char id[32];
    proxy::request_id_hex(r.request_id, id);
    append_json_string(out, std::string_view(id, sizeof id));
  } else {
    // The client's own (its bytes JSON-escaped), or "" when there was none.
    append_json_string(out, std::string_view(r.client_request_id, std::min<size_t>(r.client_request_id_len,
                                                                                   sizeof r.client_request_id)));
  }
  field("tls");
  out += (r.flags & proxy::access_tls) ? "true" : "false";
  field("worker");
  fmt::format_to(std::back_inserter(out), "{}", r.worker);
  field("truncated");
  std::string cut;
  for (auto [bit, name] : {std::pair{proxy::access_method_cut, "method"}, std::pair{proxy::access_host_cut, "host"},
                           std::pair{proxy::access_path_cut, "path"},
                           std::pair{proxy::access_request_id_cut, "request_id"}})
    if (r.flags & bit) cut += fmt::format("{}\"{}\"", cut.empty() ? "" : ",", name);
  out += '[' + cut + ']';
  out += "}\n";
}

}  // namespace kgw
