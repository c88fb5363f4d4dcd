// The head scanner (head_scan.h) against the parser: segments fed one at a
// time, scanned, and the parser run over everything received whenever the
// scanner says so, must give the verdict the parser gives when fed the same
// segments incrementally: the same head length when it is whole, the same
// error for limits and bare LFs (which the scanner must never wait past),
// and for other malformed heads either the same error or, when the head
// never ends, still waiting (the proxy's header timeout ends those).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipelines/l7/http/head_scan.h"
#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

struct verdict {
  status st = status::more;
  error err = error::none;
  uint32_t length = 0;
  uint32_t at_segment = 0;  // how many segments had been fed
  bool operator==(const verdict& o) const { return st == o.st && err == o.err && length == o.length; }
};

std::string show(const verdict& v) {
  return std::string(v.st == status::more ? "more" : v.st == status::done ? "done" : "error") + " " +
         error_name(v.err) + " length " + std::to_string(v.length) + " after segment " + std::to_string(v.at_segment);
}

verdict by_parser(const std::string& t, const std::vector<size_t>& cuts, message_kind kind, const limits& lim,
                  size_t max_seg) {
  segments s(t, cuts, false, max_seg);
  head_parser p;
  head_parser_init(p, kind, lim);
  for (size_t i = 0; i < s.segs.size(); ++i) {
    if (i) s.segs[i - 1]->next = s.segs[i];
    feed_result r = head_feed(p, cursor{s.segs[i], 0});
    if (r.st != status::more) return {r.st, r.err, p.h.length, static_cast<uint32_t>(i + 1)};
  }
  return {};
}

verdict by_scanner(const std::string& t, const std::vector<size_t>& cuts, message_kind kind, const limits& lim,
                   size_t max_seg, int* parses = nullptr) {
  segments s(t, cuts, false, max_seg);
  head_scan sc;
  head_parser p;
  for (size_t i = 0; i < s.segs.size(); ++i) {
    if (i) s.segs[i - 1]->next = s.segs[i];
    cursor from = cursor{s.segs[i], 0};
    for (;;) {
      if (head_scan_feed(sc, from, lim) == scan_status::more) break;
      if (parses) ++*parses;
      head_parser_init(p, kind, lim);
      feed_result r = head_feed(p, s.start());
      if (r.st != status::more) return {r.st, r.err, p.h.length, static_cast<uint32_t>(i + 1)};
      from = cursor_advance(s.start(), sc.pos);
      if (!from.seg) break;
    }
  }
  return {};
}

bool must_not_wait(error e) {
  return e == error::start_line_too_long || e == error::head_too_large || e == error::too_many_fields ||
         e == error::bare_lf;
}

void check(const std::string& t, message_kind kind, const limits& lim, const std::vector<size_t>& cuts,
           size_t max_seg = 2000) {
  verdict want = by_parser(t, cuts, kind, lim, max_seg);
  int parses = 0;
  verdict got = by_scanner(t, cuts, kind, lim, max_seg, &parses);
  std::string where = printable(t.substr(0, 120)) + " cuts " + std::to_string(cuts.size());
  if (want.st == status::done || (want.st == status::error && must_not_wait(want.err))) {
    EXPECT_EQ(got, want) << where << ": parser " << show(want) << ", scanner " << show(got);
    // Judged no later than the segment that made the head whole (or broke a
    // limit): the scanner does not wait for bytes the parser did not need.
    EXPECT_EQ(got.at_segment, want.at_segment) << where;
  } else if (got.st != status::more) {
    EXPECT_EQ(got, want) << where << ": parser " << show(want) << ", scanner " << show(got);
  }
  EXPECT_LE(parses, 4) << where << ": the parser runs once per judgement, not per segment";
}

std::vector<std::string> corpus(const limits& lim) {
  std::vector<std::string> c = {
      "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent:  t \r\nX-E:\r\n\r\n",
      "\r\n\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
      "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
      "GET / HTTP/1.1\nHost: a\n\n",
      "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\n",
      "\n",
      "GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  // Limits: the start line at and past its bound, with and without an end.
  std::string line = "GET /" + std::string(lim.max_start_line - 16, 'a') + " HTTP/1.1\r\n";  // exactly the limit
  c.push_back(line + "Host: a\r\n\r\n");
  c.push_back("GET /b" + line.substr(5) + "Host: a\r\n\r\n");
  c.push_back("GET /" + std::string(lim.max_start_line + 100, 'a'));
  c.push_back("\r\n\r\n" + line + "Host: a\r\n\r\n");  // empty lines count towards it, as in the parser
  // The field block at and past its bound.
  std::string fill = "X: " + std::string(lim.max_field_block - 16, 'v') + "\r\n";  // a block of exactly the limit
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\n" + fill + "\r\n");
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\nY" + fill + "\r\n");
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(lim.max_field_block + 10, 'v'));
  // The field count at and past its bound.
  std::string fields;
  for (int i = 1; i < lim.max_fields; ++i) fields += "F" + std::to_string(i) + ": 1\r\n";
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n");
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "Z: 1\r\n\r\n");
  c.push_back("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "Z: 1\r\nW: 2\r\n");
  return c;
}

TEST(http_scan, agrees_with_the_parser_at_every_cut) {
  limits lim;
  lim.max_start_line = 200;
  lim.max_field_block = 300;
  lim.max_fields = 10;
  for (const std::string& t : corpus(lim)) {
    check(t, message_kind::request, lim, {});
    for (size_t cut = 1; cut < t.size(); ++cut) check(t, message_kind::request, lim, {cut});
    if (t.size() < 200) check(t, message_kind::request, lim, every_byte(t.size()));
    check(t, message_kind::request, lim, {}, 7);
  }
}

TEST(http_scan, default_limits) {
  limits lim;
  for (const std::string& t : corpus(lim)) {
    check(t, message_kind::request, lim, {});
    check(t, message_kind::request, lim, {}, 1500);
    check(t, message_kind::request, lim, {1, 17, 1000, 8191, 8192, 8193, 20000});
  }
}

TEST(http_scan, responses) {
  limits lim;
  for (std::string t : {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-Y: 1\r\n\r\nbody", "HTTP/1.1 204\r\n\r\n",
                        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\nX: 1\n\n",
                        "\r\nHTTP/1.1 200 OK\r\n\r\n"}) {
    check(t, message_kind::response, lim, {});
    for (size_t cut = 1; cut < t.size(); ++cut) check(t, message_kind::response, lim, {cut});
  }
}

// The state a connection keeps between segments.
TEST(http_scan, small) { EXPECT_LE(sizeof(head_scan), 16u); }

}  // namespace
}  // namespace kgw::http::test
