// Helpers of the HTTP tests: text into mbuf segments cut where a test says,
// fed to the parsers whole or a segment at a time, and the results read back
// into plain strings so that two parses can be compared field by field.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipelines/l7/http/http_body.h"
#include "pipelines/l7/http/http_head.h"

namespace kgw::http::test {

rte_mempool* pool();

// Segments holding `text`, cut before each offset in `cuts` (increasing) and
// wherever a segment would pass `max_seg` bytes. Linked or not: a test that
// feeds one segment at a time links them as it goes, as the proxy will.
struct segments {
  std::vector<rte_mbuf*> segs;
  segments() = default;
  segments(std::string_view text, const std::vector<size_t>& cuts, bool linked = true, size_t max_seg = 2000);
  segments(const segments&) = delete;
  segments& operator=(const segments&) = delete;
  ~segments();
  void link_all();
  cursor start() const { return cursor{segs.empty() ? nullptr : segs[0], 0}; }
};

// Every byte in its own segment.
std::vector<size_t> every_byte(size_t n);

// A head read back: what the parser said, in strings.
struct parsed {
  status st = status::more;
  error err = error::none;
  uint32_t consumed = 0;  // bytes of the whole input the head took
  uint32_t length = 0;
  std::string method, target, path, query, host, reason, upgrade_value;
  http::method meth = http::method::other;
  target_form form = target_form::none;
  bool has_query = false, https = false, has_host = false, has_port = false;
  uint16_t port = 0, status_code = 0;
  uint8_t version_minor = 0;
  framing body = framing::none;
  uint64_t content_length = 0;
  bool has_content_length = false, has_te = false, chunked = false;
  bool close = false, keep_alive = false, conn_upgrade = false, persistent = false, upgrade = false,
       expect_continue = false;
  std::vector<std::string> conn_options;
  std::vector<std::string> names, values;
  std::vector<int> ids, flags;
  bool operator==(const parsed&) const = default;
};

struct parse_options {
  message_kind kind = message_kind::request;
  limits lim{};
  method request_method = method::other;
  bool request_upgrade = false;
};

// Reads the parser's head into strings.
parsed read_back(const head_parser& p, status st, error err, uint32_t consumed);
// Parses `text` cut at `cuts`: fed as one call (per_segment false) or one
// call per segment, each linked to the previous one just before its call.
parsed parse(std::string_view text, const std::vector<size_t>& cuts = {}, bool per_segment = false,
             const parse_options& o = {});
inline parsed parse_response(std::string_view text, method request_method = method::get) {
  parse_options o;
  o.kind = message_kind::response;
  o.request_method = request_method;
  return parse(text, {}, false, o);
}

// A body read back: the data, the trailer bytes (none after an error), and
// the outcome.
struct decoded {
  status st = status::more;
  error err = error::none;
  std::string data, trailers;
  uint64_t consumed = 0;
  bool operator==(const decoded&) const = default;
};
// Decodes `text` (the bytes after a head) with the framing given, cut at
// `cuts`, one call per segment when per_segment, with at most max_pieces
// pieces per call.
decoded decode(std::string_view text, framing f, uint64_t content_length = 0, const std::vector<size_t>& cuts = {},
               bool per_segment = false, uint16_t max_pieces = 64, const body_limits& lim = {});

std::string read(cursor base, span s);
std::string printable(std::string_view s);

}  // namespace kgw::http::test
