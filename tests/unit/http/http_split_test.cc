// Incremental parsing: a head cut between segments at every byte position,
// or a segment per byte, fed one call per segment, parses exactly as the
// whole head in one segment does (same outcome, same spans read back); and
// pipelined messages in one buffer parse one after the other.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

const std::vector<std::string>& request_corpus() {
  static const std::vector<std::string> c = {
      "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent:  t \r\nX-E:\r\n\r\n",
      "\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nExpect: 100-continue\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\tchunked\r\n\r\n",
      "GET http://user.example:81/p?q HTTP/1.1\r\nHost: [::1]:9\r\n\r\n",
      "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
      "OPTIONS * HTTP/1.0\r\n\r\n",
      "GET /ws HTTP/1.1\r\nX-A: 1\r\nHost: a\r\nConnection: Upgrade, X-A, keep-alive\r\nUpgrade: websocket\r\n"
      "Keep-Alive: 5\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
      "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: a,b,c,d,e,f,g,h,i\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n",
      // The runs' edges: escapes and "?" inside the path and query, a Host
      // with an escape, a port and trailing whitespace, versions that fail
      // late, a method of odd token bytes, a fragment, a space in Host.
      "GET /a%20b/c?d=%41?e/f HTTP/1.1\r\nHost: h%41st.example:80 \r\n\r\n",
      "GET /p HTTP/1.x\r\nHost: a\r\n\r\n",
      "GET /p HTTQ/1.1\r\nHost: a\r\n\r\n",
      "GET /p HTTP/1.1x\r\nHost: a\r\n\r\n",
      "M-SEARCH~! /p HTTP/1.1\r\nHost: a b\r\n\r\n",
      "GET /p#frag HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  return c;
}

const std::vector<std::string>& response_corpus() {
  static const std::vector<std::string> c = {
      "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close, X-Y\r\nX-Y: 1\r\n\r\nbody",
      "HTTP/1.1 204\r\n\r\n",
      "HTTP/1.0 500 Internal Server Error\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  return c;
}

// Status lines that fail late in the version.
const std::vector<std::string>& bad_response_corpus() {
  static const std::vector<std::string> c = {
      "HTTP/1.2 200 OK\r\n\r\n",
      "HTTP/1.1200 OK\r\n\r\n",
      "HTTPS/1.1 200 OK\r\n\r\n",
  };
  return c;
}

TEST(http_split, every_cut_of_a_request_head_parses_the_same) {
  for (const std::string& t : request_corpus()) {
    parsed whole = parse(t);
    for (size_t cut = 1; cut < t.size(); ++cut) {
      EXPECT_EQ(parse(t, {cut}, true), whole) << printable(t) << " cut at " << cut;
      // Two cuts, fed as one call over the linked segments.
      EXPECT_EQ(parse(t, {cut / 2, cut}, false), whole) << printable(t) << " cut at " << cut / 2 << ", " << cut;
    }
    EXPECT_EQ(parse(t, every_byte(t.size()), true), whole) << printable(t) << " a segment per byte";
  }
}

TEST(http_split, every_cut_of_a_response_head_parses_the_same) {
  parse_options o;
  o.kind = message_kind::response;
  for (const auto* corpus : {&response_corpus(), &bad_response_corpus()}) {
    for (const std::string& t : *corpus) {
      parsed whole = parse(t, {}, false, o);
      EXPECT_EQ(whole.st, corpus == &response_corpus() ? status::done : status::error) << printable(t);
      for (size_t cut = 1; cut < t.size(); ++cut) EXPECT_EQ(parse(t, {cut}, true, o), whole) << printable(t) << cut;
      EXPECT_EQ(parse(t, every_byte(t.size()), true, o), whole) << printable(t);
    }
  }
}

TEST(http_split, spans_read_back_across_segments) {
  std::string t = "GET /a-long-path HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
  segments s(t, every_byte(t.size()));
  head_parser p;
  head_parser_init(p, message_kind::request, limits{});
  feed_result r = head_feed(p, s.start());
  ASSERT_EQ(r.st, status::done);
  EXPECT_TRUE(host_equals(p.h, "WWW.EXAMPLE.COM"));
  EXPECT_TRUE(span_equals(p.h.base, p.h.path, "/a-long-path"));
  char scratch[64];
  const char* path = span_data(p.h.base, p.h.path, scratch, sizeof(scratch));
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(std::string(path, p.h.path.len), "/a-long-path");
  EXPECT_EQ(path, scratch);  // it straddled segments: copied
  EXPECT_EQ(span_data(p.h.base, p.h.path, scratch, 4), nullptr);
  EXPECT_EQ(r.next.seg, nullptr);
  // In one segment, the bytes are read in place.
  segments one(t, {});
  head_parser_init(p, message_kind::request, limits{});
  ASSERT_EQ(head_feed(p, one.start()).st, status::done);
  const char* in_place = span_data(p.h.base, p.h.path, scratch, sizeof(scratch));
  EXPECT_EQ(in_place, rte_pktmbuf_mtod(one.segs[0], const char*) + 4);
}

// Reads messages back to back from one buffer: head, body, next head.
std::vector<std::string> pipeline(const std::string& t, const std::vector<size_t>& cuts) {
  segments s(t, cuts);
  std::vector<std::string> out;
  head_parser p;
  head_parser_init(p, message_kind::request, limits{});
  cursor at = s.start();
  while (at.seg) {
    head_parser_reset(p);
    feed_result r = head_feed(p, at);
    if (r.st != status::done) {
      out.push_back(std::string("head ") + (r.st == status::more ? "more" : error_name(r.err)));
      break;
    }
    std::string m = read(p.h.base, p.h.method_name) + " " + read(p.h.base, p.h.target) + " [";
    std::string trailers;
    body_decoder b;
    body_init(b, p.h);
    piece pieces[8];
    body_result br;
    at = r.next;
    do {
      br = body_feed(b, at, pieces, 8);
      for (uint16_t i = 0; i < br.n_pieces; ++i)
        (pieces[i].kind == piece_kind::trailers ? trailers : m) += read(pieces[i].at, span{0, pieces[i].len});
      at = br.next;
    } while (br.full);
    out.push_back(m + (trailers.empty() ? "" : "|" + trailers) + "]");
    if (br.st != status::done) {
      out.push_back("body not done");
      break;
    }
  }
  return out;
}

TEST(http_split, pipelined_requests_in_one_buffer) {
  std::string t =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
      "\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /5 HTTP/1.1\r\nHost : a\r\n\r\n";
  std::vector<std::string> want = {"GET /1 []", "POST /2 [hello]", "POST /3 [abc|T: 1\r\n]", "GET /4 []",
                                   "head space_before_colon"};
  EXPECT_EQ(pipeline(t, {}), want);
  for (size_t cut = 1; cut < t.size(); cut += 7) EXPECT_EQ(pipeline(t, {cut, cut + 3}), want) << cut;
}

}  // namespace
}  // namespace kgw::http::test
