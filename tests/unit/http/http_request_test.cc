// One test per rule of the request head parser, each naming the RFC section
// it follows (RFC 9110 semantics, RFC 9112 HTTP/1.1 syntax).
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

std::string req(std::string_view line, std::string_view fields = "Host: example.com\r\n") {
  return std::string(line) + "\r\n" + std::string(fields) + "\r\n";
}

void expect_error(std::string_view text, error e) {
  parsed r = parse(text);
  EXPECT_EQ(r.st, status::error) << printable(text);
  EXPECT_EQ(r.err, e) << printable(text) << ": got " << error_name(r.err) << ", want " << error_name(e);
}

parsed ok(std::string_view text) {
  parsed r = parse(text);
  EXPECT_EQ(r.st, status::done) << printable(text) << ": " << error_name(r.err);
  return r;
}

TEST(http_request, rfc9112_3_request_line_and_fields) {
  std::string t = "GET /a/b?x=1&y HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent:  kgw test \t\r\nX-Empty:\r\n\r\n";
  parsed r = ok(t);
  EXPECT_EQ(r.consumed, t.size());
  EXPECT_EQ(r.length, t.size());
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.meth, method::get);
  EXPECT_EQ(r.form, target_form::origin);
  EXPECT_EQ(r.target, "/a/b?x=1&y");
  EXPECT_EQ(r.path, "/a/b");
  EXPECT_TRUE(r.has_query);
  EXPECT_EQ(r.query, "x=1&y");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_EQ(r.host, "Example.COM");
  EXPECT_TRUE(r.has_port);
  EXPECT_EQ(r.port, 8080);
  ASSERT_EQ(r.names.size(), 3u);
  EXPECT_EQ(r.names[1], "User-Agent");
  // RFC 9110 section 5.5: leading and trailing whitespace is not part of the value.
  EXPECT_EQ(r.values[1], "kgw test");
  EXPECT_EQ(r.values[2], "");
  EXPECT_EQ(r.ids[0], static_cast<int>(field_id::host));
  EXPECT_EQ(r.body, framing::none);
  EXPECT_TRUE(r.persistent);
}

TEST(http_request, host_equals_is_case_insensitive_without_port) {
  std::string t = req("GET / HTTP/1.1", "Host: WWW.Example.com:443\r\n");
  segments s(t, {5, 27});
  head_parser p;
  head_parser_init(p, message_kind::request, limits{});
  ASSERT_EQ(head_feed(p, s.start()).st, status::done);
  EXPECT_TRUE(host_equals(p.h, "www.example.com"));
  EXPECT_FALSE(host_equals(p.h, "www.example.co"));
  EXPECT_FALSE(host_equals(p.h, "www.example.com:443"));
}

TEST(http_request, rfc9110_9_1_methods_are_tokens_known_ones_named) {
  EXPECT_EQ(ok(req("DELETE /x HTTP/1.1")).meth, method::delete_);
  EXPECT_EQ(ok(req("PATCH /x HTTP/1.1")).meth, method::patch);
  parsed other = ok(req("PURGE /x HTTP/1.1"));
  EXPECT_EQ(other.meth, method::other);
  EXPECT_EQ(other.method, "PURGE");
  // Methods are case-sensitive (RFC 9110 section 9.1).
  EXPECT_EQ(ok(req("get /x HTTP/1.1")).meth, method::other);
  expect_error(req("GE(T / HTTP/1.1"), error::bad_method);
  expect_error(req("G\"ET / HTTP/1.1"), error::bad_method);
  expect_error(std::string("GE\0T / HTTP/1.1\r\nHost: a\r\n\r\n", 28), error::bad_method);
  expect_error(req("{GET} / HTTP/1.1"), error::bad_method);
}

TEST(http_request, rfc9112_3_one_space_between_parts) {
  expect_error(req("GET  / HTTP/1.1"), error::bad_request_line);
  expect_error(req("GET\t/ HTTP/1.1"), error::bad_request_line);
  expect_error(req("GET / HTTP/1.1 "), error::bad_request_line);
  expect_error(req("GET /  HTTP/1.1"), error::bad_version);
  expect_error(req(" GET / HTTP/1.1"), error::bad_method);
}

TEST(http_request, rfc9112_3_http09_request_line_refused) {
  expect_error("GET /\r\n\r\n", error::bad_request_line);
}

TEST(http_request, rfc9112_2_2_empty_lines_before_request_line_ignored) {
  parsed r = ok("\r\n\r\n" + req("GET / HTTP/1.1"));
  EXPECT_EQ(r.method, "GET");
  expect_error("\n" + req("GET / HTTP/1.1"), error::bare_lf);
}

TEST(http_request, rfc9112_3_2_1_origin_form_grammar) {
  parsed r = ok(req("GET /%41b/c;p=1/:@!$&'()*+,;=-._~?q/?%2F HTTP/1.1"));
  EXPECT_EQ(r.path, "/%41b/c;p=1/:@!$&'()*+,;=-._~");
  EXPECT_EQ(r.query, "q/?%2F");
  EXPECT_FALSE(ok(req("GET /x HTTP/1.1")).has_query);
  parsed empty_query = ok(req("GET /x? HTTP/1.1"));
  EXPECT_TRUE(empty_query.has_query);
  EXPECT_EQ(empty_query.query, "");
  // Bytes outside pchar, and broken pct-encodings (RFC 3986 sections 2.1, 3.3).
  for (const char* bad : {"/a\"b", "/a<b", "/a>b", "/a{b", "/a}b", "/a|b", "/a\\b", "/a^b", "/a`b", "/a\x7f",
                          "/a\x80", "/a%", "/a%4", "/a%zz", "/a%4g"}) {
    expect_error(req(std::string("GET ") + bad + " HTTP/1.1"), error::bad_target);
  }
}

TEST(http_request, rfc9112_3_2_fragment_not_allowed_in_target) {
  expect_error(req("GET /a#frag HTTP/1.1"), error::bad_target);
}

TEST(http_request, rfc9112_3_2_2_absolute_form_authority_wins_over_host) {
  parsed r = ok(req("GET HTTP://Backend.example:8080/p?q HTTP/1.1", "Host: other.example\r\n"));
  EXPECT_EQ(r.form, target_form::absolute);
  EXPECT_EQ(r.host, "Backend.example");
  EXPECT_EQ(r.port, 8080);
  EXPECT_EQ(r.path, "/p");
  EXPECT_EQ(r.query, "q");
  EXPECT_FALSE(r.https);
  parsed bare = ok(req("GET https://[2001:db8::1] HTTP/1.1"));
  EXPECT_TRUE(bare.https);
  EXPECT_EQ(bare.host, "[2001:db8::1]");
  EXPECT_FALSE(bare.has_port);
  EXPECT_EQ(bare.path, "");
  parsed q = ok(req("GET http://a?x HTTP/1.1"));
  EXPECT_EQ(q.host, "a");
  EXPECT_EQ(q.query, "x");
}

TEST(http_request, rfc9110_4_2_absolute_form_needs_http_scheme_and_host) {
  expect_error(req("GET ftp://a/ HTTP/1.1"), error::bad_target);
  expect_error(req("GET http:/a/ HTTP/1.1"), error::bad_target);
  // RFC 9110 section 4.2.1: an http URI with an empty host is invalid.
  expect_error(req("GET http:///a HTTP/1.1"), error::bad_target);
  expect_error(req("GET http://:80/a HTTP/1.1"), error::bad_target);
}

TEST(http_request, rfc9110_4_2_4_userinfo_refused) {
  expect_error(req("GET http://user:pw@a.example/ HTTP/1.1"), error::bad_target);
}

TEST(http_request, rfc9112_3_2_3_authority_form_only_for_connect) {
  parsed r = ok(req("CONNECT proxy.example:443 HTTP/1.1", "Host: proxy.example:443\r\n"));
  EXPECT_EQ(r.form, target_form::authority);
  EXPECT_EQ(r.host, "proxy.example");
  EXPECT_EQ(r.port, 443);
  expect_error(req("CONNECT proxy.example HTTP/1.1"), error::bad_target);
  expect_error(req("CONNECT proxy.example: HTTP/1.1"), error::bad_target);
  expect_error(req("CONNECT / HTTP/1.1"), error::target_form);
  expect_error(req("CONNECT http://a:1/ HTTP/1.1"), error::bad_target);
  // Not CONNECT: "host:port" reads as a scheme kgw does not serve.
  expect_error(req("GET proxy.example:443 HTTP/1.1"), error::bad_target);
}

TEST(http_request, rfc9112_3_2_4_asterisk_form_only_for_options) {
  EXPECT_EQ(ok(req("OPTIONS * HTTP/1.1")).form, target_form::asterisk);
  expect_error(req("GET * HTTP/1.1"), error::target_form);
  expect_error(req("OPTIONS *x HTTP/1.1"), error::bad_target);
}

TEST(http_request, rfc9112_2_3_versions_1_0_and_1_1_only) {
  EXPECT_EQ(ok(req("GET / HTTP/1.0", "")).version_minor, 0);
  for (const char* v : {"HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"}) {
    expect_error(req(std::string("GET / ") + v), error::version_unsupported);
    EXPECT_EQ(error_status(error::version_unsupported), 505);
  }
  // HTTP-name is case-sensitive and each version part one digit.
  for (const char* v : {"http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1", "HTTP 1.1", "HTTPS/1.1", "HTTP/1.x"}) {
    parsed r = parse(req(std::string("GET / ") + v));
    EXPECT_EQ(r.st, status::error) << v;
    EXPECT_TRUE(r.err == error::bad_version || r.err == error::bad_request_line) << v << " " << error_name(r.err);
  }
}

TEST(http_request, rfc9112_5_1_no_whitespace_before_colon) {
  expect_error(req("GET / HTTP/1.1", "Host : a\r\n"), error::space_before_colon);
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nX-A\t: b\r\n"), error::space_before_colon);
}

TEST(http_request, rfc9112_5_2_obs_fold_refused) {
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nX-A: b\r\n c\r\n"), error::obs_fold);
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nX-A: b\r\n\tc\r\n"), error::obs_fold);
}

TEST(http_request, rfc9112_2_2_whitespace_before_first_field_refused) {
  expect_error(req("GET / HTTP/1.1", " Host: a\r\n"), error::obs_fold);
}

TEST(http_request, rfc9112_2_2_bare_cr_refused) {
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nX-A: b\rc\r\n"), error::bare_cr);
  expect_error("GET / HTTP/1.1\rHost: a\r\n\r\n", error::bare_cr);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", error::bare_cr);
  expect_error("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", error::bare_cr);
}

TEST(http_request, rfc9112_2_2_bare_lf_refused) {
  expect_error("GET / HTTP/1.1\nHost: a\r\n\r\n", error::bare_lf);
  expect_error("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", error::bare_lf);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\n\n", error::bare_lf);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nX:\n\r\n", error::bare_lf);
}

TEST(http_request, rfc9110_5_5_nul_ctl_del_in_values_refused) {
  for (char c : {'\0', '\x01', '\x0b', '\x0c', '\x1f', '\x7f'}) {
    std::string t = req("GET / HTTP/1.1", std::string("Host: a\r\nX-A: b") + c + "c\r\n");
    expect_error(t, error::bad_field_value);
  }
  // obs-text and HTAB are field content.
  parsed r = ok(req("GET / HTTP/1.1", "Host: a\r\nX-A: caf\xc3\xa9\tb\xff\r\n"));
  EXPECT_EQ(r.values[1], "caf\xc3\xa9\tb\xff");
}

TEST(http_request, rfc9110_5_1_field_names_are_tokens) {
  for (const char* f : {"X(A): b\r\n", "X\"A: b\r\n", "X@A: b\r\n", ": b\r\n", "X\xc3\xa9: b\r\n", "X/A: b\r\n",
                        "[X]: b\r\n"}) {
    expect_error(req("GET / HTTP/1.1", std::string("Host: a\r\n") + f), error::bad_field_name);
  }
  // A line without a colon.
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nNoColon\r\n"), error::bad_field_name);
  parsed r = ok(req("GET / HTTP/1.1", "Host: a\r\nX!#$%&'*+-.^_`|~9: v\r\n"));
  EXPECT_EQ(r.names[1], "X!#$%&'*+-.^_`|~9");
}

TEST(http_request, rfc9112_3_2_host_required_in_http11) {
  expect_error("GET / HTTP/1.1\r\nX: a\r\n\r\n", error::missing_host);
  parsed r = ok("GET / HTTP/1.0\r\n\r\n");
  EXPECT_FALSE(r.has_host);
  // An empty Host is allowed (no authority to name); routing will find none.
  parsed empty = ok("GET / HTTP/1.1\r\nHost:\r\n\r\n");
  EXPECT_TRUE(empty.has_host);
  EXPECT_EQ(empty.host, "");
}

TEST(http_request, rfc9112_3_2_more_than_one_host_refused) {
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nHost: a\r\n"), error::duplicate_host);
  expect_error(req("GET / HTTP/1.0", "host: a\r\nHOST: b\r\n"), error::duplicate_host);
}

TEST(http_request, rfc9112_3_2_invalid_host_refused) {
  for (const char* h : {"a b", "a/b", "a:b", "a:99999", "a:1:2", "[::1", "[]", "[::1]x", ":80", "user@a", "a?b",
                        "[v1.x]", "a%zz", "a%4", "a\"b"}) {
    expect_error(req("GET / HTTP/1.1", std::string("Host: ") + h + "\r\n"), error::bad_host);
  }
  parsed v6 = ok(req("GET / HTTP/1.1", "Host: [2001:db8::1]:8080 \r\n"));
  EXPECT_EQ(v6.host, "[2001:db8::1]");
  EXPECT_EQ(v6.port, 8080);
  parsed v4 = ok(req("GET / HTTP/1.1", "Host: 192.0.2.1\r\n"));
  EXPECT_EQ(v4.host, "192.0.2.1");
  EXPECT_FALSE(v4.has_port);
  // An empty port is allowed by the URI grammar (RFC 3986 section 3.2.3).
  parsed empty_port = ok(req("GET / HTTP/1.1", "Host: a.example:\r\n"));
  EXPECT_EQ(empty_port.host, "a.example");
  EXPECT_FALSE(empty_port.has_port);
}

TEST(http_request, rfc9112_6_3_content_length_frames_the_body) {
  parsed r = ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 0042\r\n"));
  EXPECT_EQ(r.body, framing::length);
  EXPECT_EQ(r.content_length, 42u);
  parsed zero = ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 0\r\n"));
  EXPECT_EQ(zero.body, framing::none);
  EXPECT_TRUE(zero.has_content_length);
  EXPECT_EQ(ok(req("GET / HTTP/1.1")).body, framing::none);
}

TEST(http_request, rfc9110_8_6_invalid_content_length_refused) {
  for (const char* v : {"", "+5", "-1", "5a", "0x5", "5 5", "1.0", ",5", "5,", "5,,5", "99999999999999999999",
                        "4611686018427387904"}) {
    expect_error(req("POST / HTTP/1.1", std::string("Host: a\r\nContent-Length: ") + v + "\r\n"),
                 error::bad_content_length);
  }
  EXPECT_EQ(ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 4611686018427387903\r\n")).content_length,
            4611686018427387903u);
}

TEST(http_request, rfc9110_8_6_equal_content_lengths_are_one) {
  parsed list = ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5 , 5\r\n"));
  EXPECT_EQ(list.content_length, 5u);
  parsed lines = ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5\r\ncontent-length: 005\r\n"));
  EXPECT_EQ(lines.content_length, 5u);
}

TEST(http_request, rfc9112_6_3_differing_content_lengths_refused) {
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5, 6\r\n"), error::conflicting_content_length);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"),
               error::conflicting_content_length);
}

TEST(http_request, rfc9112_6_1_content_length_with_transfer_encoding_refused) {
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
               error::content_length_with_te);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
               error::content_length_with_te);
}

TEST(http_request, rfc9112_6_3_chunked_frames_the_body) {
  parsed r = ok(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip, Chunked\r\n"));
  EXPECT_EQ(r.body, framing::chunked);
  EXPECT_TRUE(r.chunked);
  // Field lines of one name form one list (RFC 9110 section 5.3).
  EXPECT_EQ(ok(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")).body,
            framing::chunked);
}

TEST(http_request, rfc9112_6_3_final_coding_not_chunked_refused) {
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip\r\n"), error::te_not_chunked);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked, gzip\r\n"), error::te_not_chunked);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
               error::te_not_chunked);
}

TEST(http_request, rfc9112_6_1_chunked_twice_refused) {
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked, chunked\r\n"),
               error::bad_transfer_encoding);
}

TEST(http_request, rfc9112_6_1_unknown_coding_is_501) {
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: foo, chunked\r\n"),
               error::unknown_transfer_coding);
  // "identity" left the registry with RFC 7230.
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: identity\r\n"), error::unknown_transfer_coding);
  EXPECT_EQ(error_status(error::unknown_transfer_coding), 501);
}

TEST(http_request, rfc9112_7_transfer_coding_syntax) {
  for (const char* v : {"", " , ", "chunked;a=b", "chunked x", "\"chunked\"", "gzip chunked"}) {
    expect_error(req("POST / HTTP/1.1", std::string("Host: a\r\nTransfer-Encoding: ") + v + "\r\n"),
                 error::bad_transfer_encoding);
  }
}

TEST(http_request, rfc9112_6_1_transfer_encoding_in_http10_refused) {
  expect_error(req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n"), error::te_in_http10);
}

TEST(http_request, rfc9112_9_3_persistence) {
  EXPECT_TRUE(ok(req("GET / HTTP/1.1")).persistent);
  parsed close = ok(req("GET / HTTP/1.1", "Host: a\r\nConnection: Close\r\n"));
  EXPECT_TRUE(close.close);
  EXPECT_FALSE(close.persistent);
  EXPECT_FALSE(ok(req("GET / HTTP/1.0", "")).persistent);
  parsed ka = ok(req("GET / HTTP/1.0", "Connection: keep-alive\r\n"));
  EXPECT_TRUE(ka.keep_alive);
  EXPECT_TRUE(ka.persistent);
}

TEST(http_request, rfc9110_7_6_1_connection_options_and_hop_by_hop_fields) {
  std::string t = req("GET / HTTP/1.1",
                      "X-Secret: 1\r\nHost: a\r\nConnection: keep-alive, X-SECRET,,x-other\r\nKeep-Alive: 5\r\n"
                      "x-secret: 2\r\nTE: trailers\r\nX-Kept: 3\r\nX-Other: 4\r\nProxy-Connection: x\r\n");
  parsed r = ok(t);
  ASSERT_EQ(r.conn_options.size(), 3u);
  EXPECT_EQ(r.conn_options[1], "X-SECRET");
  auto flags_of = [&](const std::string& name) {
    for (size_t i = 0; i < r.names.size(); ++i)
      if (r.names[i] == name) return r.flags[i];
    return -1;
  };
  EXPECT_EQ(flags_of("X-Secret"), field_conn_listed);
  EXPECT_EQ(flags_of("x-secret"), field_conn_listed);
  EXPECT_EQ(flags_of("X-Other"), field_conn_listed);
  EXPECT_EQ(flags_of("X-Kept"), 0);
  EXPECT_EQ(flags_of("Host"), 0);
  EXPECT_EQ(flags_of("Connection"), field_hop_by_hop);
  EXPECT_EQ(flags_of("Keep-Alive"), field_hop_by_hop | field_conn_listed);
  EXPECT_EQ(flags_of("TE"), field_hop_by_hop);
  EXPECT_EQ(flags_of("Proxy-Connection"), field_hop_by_hop);
}

TEST(http_request, rfc9110_7_6_1_connection_is_a_token_list) {
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nConnection: a/b\r\n"), error::bad_connection);
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nConnection: close;x\r\n"), error::bad_connection);
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nConnection: a b\r\n"), error::bad_connection);
}

TEST(http_request, connection_options_beyond_what_kgw_keeps_refused) {
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nConnection: a,b,c,d,e,f,g,h,i\r\n"), error::connection_options);
  expect_error(req("GET / HTTP/1.1", "Host: a\r\nConnection: " + std::string(129, 'x') + "\r\n"),
               error::connection_options);
  EXPECT_EQ(ok(req("GET / HTTP/1.1", "Host: a\r\nConnection: " + std::string(128, 'x') + "\r\n")).conn_options.size(),
            1u);
}

TEST(http_request, rfc9110_7_8_upgrade_needs_the_connection_option) {
  parsed r = ok(req("GET /ws HTTP/1.1", "Host: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"));
  EXPECT_TRUE(r.upgrade);
  EXPECT_EQ(r.upgrade_value, "websocket");
  EXPECT_FALSE(ok(req("GET /ws HTTP/1.1", "Host: a\r\nUpgrade: websocket\r\n")).upgrade);
  // An HTTP/1.0 Upgrade is ignored.
  EXPECT_FALSE(ok(req("GET /ws HTTP/1.0", "Connection: upgrade\r\nUpgrade: websocket\r\n")).upgrade);
}

TEST(http_request, rfc9110_10_1_1_expect_100_continue) {
  EXPECT_TRUE(ok(req("POST / HTTP/1.1", "Host: a\r\nExpect: 100-Continue \r\nContent-Length: 1\r\n")).expect_continue);
  EXPECT_FALSE(ok(req("POST / HTTP/1.1", "Host: a\r\nContent-Length: 1\r\n")).expect_continue);
  // An HTTP/1.0 client cannot wait for 100 Continue: the expectation is ignored.
  EXPECT_FALSE(ok(req("POST / HTTP/1.0", "Expect: 100-continue\r\n")).expect_continue);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nExpect: 100-continue-please\r\n"), error::expectation_failed);
  expect_error(req("POST / HTTP/1.1", "Host: a\r\nExpect: 200-ok\r\n"), error::expectation_failed);
  EXPECT_EQ(error_status(error::expectation_failed), 417);
}

TEST(http_request, request_line_limit_is_414) {
  limits lim;
  // The request line with its CRLF may be exactly max_start_line bytes.
  std::string line = "GET /" + std::string(lim.max_start_line - 16, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size() + 2, lim.max_start_line);
  ok(req(line));
  std::string longer = "GET /" + std::string(lim.max_start_line - 15, 'a') + " HTTP/1.1";
  expect_error(req(longer), error::start_line_too_long);
  EXPECT_EQ(error_status(error::start_line_too_long), 414);
  // Refused as soon as the limit passes, without waiting for the line's end.
  parsed r = parse("GET /" + std::string(lim.max_start_line, 'a'));
  EXPECT_EQ(r.err, error::start_line_too_long);
}

TEST(http_request, field_block_limit_is_431) {
  limits lim;
  // Host line (9 bytes) + one big line + the blank line = the limit exactly.
  std::string fields = "Host: a\r\nX: " + std::string(lim.max_field_block - 9 - 5 - 2, 'v') + "\r\n";
  ok(req("GET / HTTP/1.1", fields));
  std::string more = "Host: a\r\nX: " + std::string(lim.max_field_block - 9 - 5 - 1, 'v') + "\r\n";
  expect_error(req("GET / HTTP/1.1", more), error::head_too_large);
  EXPECT_EQ(error_status(error::head_too_large), 431);
}

TEST(http_request, field_count_limit_is_431) {
  std::string fields = "Host: a\r\n";
  for (int i = 1; i < 100; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(ok(req("GET / HTTP/1.1", fields)).names.size(), 100u);
  expect_error(req("GET / HTTP/1.1", fields + "X-100: v\r\n"), error::too_many_fields);
  parse_options o;
  o.lim.max_fields = 3;
  EXPECT_EQ(parse(req("GET / HTTP/1.1", "Host: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n"), {}, false, o).err,
            error::too_many_fields);
}

TEST(http_request, limits_checked) {
  EXPECT_TRUE(limits_valid(limits{}));
  EXPECT_FALSE(limits_valid(limits{8192, 32768, 129}));
  EXPECT_FALSE(limits_valid(limits{8192, 65536, 100}));
  EXPECT_FALSE(limits_valid(limits{0, 32768, 100}));
  EXPECT_TRUE(limits_valid(limits{65535, 65535, 128}));
}

TEST(http_request, incomplete_head_asks_for_more_and_errors_stick) {
  parsed r = parse("GET / HTTP/1.1\r\nHost: a\r\n");
  EXPECT_EQ(r.st, status::more);
  EXPECT_EQ(r.consumed, 25u);
  segments s("GET / HTTP/1.1\r\nHost : a\r\n\r\n", {});
  head_parser p;
  head_parser_init(p, message_kind::request, limits{});
  feed_result first = head_feed(p, s.start());
  EXPECT_EQ(first.st, status::error);
  feed_result again = head_feed(p, s.start());
  EXPECT_EQ(again.st, status::error);
  EXPECT_EQ(again.err, error::space_before_colon);
  EXPECT_EQ(again.consumed, 0u);
}

}  // namespace
}  // namespace kgw::http::test
