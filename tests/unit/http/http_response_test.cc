// Response heads from backends: the status line and how the body is framed
// (RFC 9112 sections 4 and 6.3). A response failing any rule is answered
// with 502 by the proxy.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

parsed ok(std::string_view text, method m = method::get, bool upgrade = false) {
  parse_options o;
  o.kind = message_kind::response;
  o.request_method = m;
  o.request_upgrade = upgrade;
  parsed r = parse(text, {}, false, o);
  EXPECT_EQ(r.st, status::done) << printable(text) << ": " << error_name(r.err);
  return r;
}

void expect_error(std::string_view text, error e) {
  parsed r = parse_response(text);
  EXPECT_EQ(r.st, status::error) << printable(text);
  EXPECT_EQ(r.err, e) << printable(text) << ": got " << error_name(r.err);
}

TEST(http_response, rfc9112_4_status_line) {
  parsed r = ok("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(r.status_code, 404);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_EQ(r.body, framing::length);
  EXPECT_EQ(r.content_length, 3u);
  EXPECT_TRUE(r.persistent);
  parsed empty = ok("HTTP/1.0 200 \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(empty.reason, "");
  EXPECT_EQ(empty.version_minor, 0);
  EXPECT_FALSE(empty.persistent);
  EXPECT_EQ(ok("HTTP/1.1 200 caf\xc3\xa9\t!\r\nContent-Length: 0\r\n\r\n").reason, "caf\xc3\xa9\t!");
}

TEST(http_response, rfc9112_4_missing_reason_space_tolerated) {
  // The reason phrase is ignored by clients (RFC 9112 section 4); servers that
  // drop the SP before an empty one are common, and it cannot hide a message.
  parsed r = ok("HTTP/1.1 204\r\n\r\n");
  EXPECT_EQ(r.status_code, 204);
  EXPECT_EQ(r.reason, "");
}

TEST(http_response, rfc9110_15_status_code_three_digits_100_to_599) {
  expect_error("HTTP/1.1 20 OK\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1 2000 OK\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1 600 X\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1 099 X\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1 2x0 X\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1  200 X\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.1 200 a\x01\r\n\r\n", error::bad_status_line);
}

TEST(http_response, rfc9112_2_3_versions_1_0_and_1_1_only) {
  expect_error("HTTP/2.0 200 OK\r\n\r\n", error::bad_status_line);
  expect_error("HTTP/1.2 200 OK\r\n\r\n", error::bad_status_line);
  expect_error("http/1.1 200 OK\r\n\r\n", error::bad_status_line);
  expect_error("\r\nHTTP/1.1 200 OK\r\n\r\n", error::bad_status_line);
}

TEST(http_response, rfc9112_6_3_no_body_for_head_1xx_204_304) {
  EXPECT_EQ(ok("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", method::head).body, framing::none);
  EXPECT_EQ(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", method::head).body, framing::none);
  EXPECT_EQ(ok("HTTP/1.1 100 Continue\r\n\r\n").body, framing::none);
  EXPECT_EQ(ok("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").body, framing::none);
  EXPECT_EQ(ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n").body, framing::none);
}

TEST(http_response, rfc9112_6_3_tunnels_after_connect_and_101) {
  EXPECT_EQ(ok("HTTP/1.1 200 OK\r\n\r\n", method::connect).body, framing::tunnel);
  EXPECT_EQ(ok("HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", method::connect).body, framing::none);
  parsed up = ok("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                 method::get, true);
  EXPECT_EQ(up.body, framing::tunnel);
  EXPECT_TRUE(up.upgrade);
  EXPECT_FALSE(up.persistent);
  // A 101 the request did not ask for switches nothing.
  EXPECT_EQ(ok("HTTP/1.1 101 Switching Protocols\r\n\r\n").body, framing::none);
}

TEST(http_response, rfc9112_6_3_framing_chunked_length_or_close) {
  parsed chunked = ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  EXPECT_EQ(chunked.body, framing::chunked);
  EXPECT_TRUE(chunked.persistent);
  // A response whose final coding is not chunked runs until the server closes.
  parsed gzip = ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(gzip.body, framing::until_close);
  EXPECT_FALSE(gzip.persistent);
  parsed neither = ok("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(neither.body, framing::until_close);
  EXPECT_FALSE(neither.persistent);
  // Unknown codings are the origin's business; only the framing matters here.
  EXPECT_EQ(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n").body, framing::chunked);
}

TEST(http_response, rfc9112_6_3_content_length_with_transfer_encoding_refused) {
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
               error::content_length_with_te);
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
               error::conflicting_content_length);
  expect_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", error::te_in_http10);
  expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", error::bad_transfer_encoding);
}

TEST(http_response, rfc9112_5_2_obs_fold_refused_in_responses) {
  // A proxy either replaces obs-fold or answers 502 (RFC 9112 section 5.2); kgw refuses.
  expect_error("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", error::obs_fold);
  expect_error("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", error::bare_cr);
  expect_error("HTTP/1.1 200 OK\nX: a\r\n\r\n", error::bare_lf);
}

TEST(http_response, host_and_expect_mean_nothing_in_responses) {
  parsed r = ok("HTTP/1.1 200 OK\r\nHost: not a host\r\nHost: twice\r\nExpect: nonsense\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.names.size(), 4u);
  EXPECT_FALSE(r.has_host);
}

}  // namespace
}  // namespace kgw::http::test
