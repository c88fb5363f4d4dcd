// Body framing: Content-Length runs and the chunked coding (RFC 9112 sections
// 6.3 and 7.1), cut between segments anywhere, with few or many pieces.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

decoded chunked(std::string_view text, const body_limits& lim = {}) {
  return decode(text, framing::chunked, 0, {}, false, 64, lim);
}

void expect_chunked_error(std::string_view text, error e, const body_limits& lim = {}) {
  decoded d = chunked(text, lim);
  EXPECT_EQ(d.st, status::error) << printable(text);
  EXPECT_EQ(d.err, e) << printable(text) << ": got " << error_name(d.err);
}

TEST(http_body, rfc9112_6_3_content_length_body_ends_after_its_bytes) {
  decoded d = decode("helloGET / HTTP/1.1\r\n", framing::length, 5, {2, 3});
  EXPECT_EQ(d.st, status::done);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.consumed, 5u);
  decoded part = decode("hel", framing::length, 5);
  EXPECT_EQ(part.st, status::more);
  EXPECT_EQ(part.data, "hel");
}

TEST(http_body, no_body_is_done_at_once) {
  decoded d = decode("GET / HTTP/1.1\r\n", framing::none);
  EXPECT_EQ(d.st, status::done);
  EXPECT_EQ(d.consumed, 0u);
}

TEST(http_body, until_close_and_tunnel_take_everything_until_eof) {
  for (framing f : {framing::until_close, framing::tunnel}) {
    segments s("abc", {1});
    body_decoder b;
    body_init(b, f, 0);
    piece pieces[4];
    body_result r = body_feed(b, s.start(), pieces, 4);
    EXPECT_EQ(r.st, status::more);
    EXPECT_EQ(r.consumed, 3u);
    EXPECT_EQ(r.n_pieces, 2);
    EXPECT_EQ(body_eof(b), status::done);
  }
}

TEST(http_body, eof_inside_a_counted_or_chunked_body_is_truncation) {
  body_decoder b;
  body_init(b, framing::length, 5);
  EXPECT_EQ(body_eof(b), status::error);
  EXPECT_EQ(b.err, error::body_truncated);
  body_init(b, framing::chunked, 0);
  EXPECT_EQ(body_eof(b), status::error);
  body_init(b, framing::none, 0);
  EXPECT_EQ(body_eof(b), status::done);
}

TEST(http_body, rfc9112_7_1_chunks_and_last_chunk) {
  std::string t = "5\r\nhello\r\n1A\r\n" + std::string(26, 'z') + "\r\n0\r\n\r\nNEXT";
  decoded d = chunked(t);
  EXPECT_EQ(d.st, status::done);
  EXPECT_EQ(d.data, "hello" + std::string(26, 'z'));
  EXPECT_EQ(d.trailers, "");
  EXPECT_EQ(d.consumed, t.size() - 4);
  // Leading zeros and either case of hex digits.
  EXPECT_EQ(chunked("0005\r\nhello\r\n000\r\n\r\n").data, "hello");
  EXPECT_EQ(chunked("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n").data.size(), 20u);
}

TEST(http_body, rfc9112_7_1_chunk_size_is_hexdig_only) {
  for (const char* t : {"\r\n", "x\r\n", "-5\r\n", "0x5\r\n", "+5\r\n", " 5\r\n", "5\n"}) {
    decoded d = chunked(t);
    EXPECT_EQ(d.st, status::error) << printable(t);
  }
  expect_chunked_error("x\r\n", error::bad_chunk_size);
  expect_chunked_error("5x\r\n", error::bad_chunk_size);
  expect_chunked_error("5\n", error::bad_chunk_size);
  expect_chunked_error("5\rx", error::bare_cr);
}

TEST(http_body, rfc9112_7_1_chunk_size_overflow_refused) {
  // 62 bits is the most: 0x3fffffffffffffff passes, one more digit does not.
  decoded big = chunked("3fffffffffffffff\r\nab");
  EXPECT_EQ(big.st, status::more);
  EXPECT_EQ(big.data, "ab");
  expect_chunked_error("4000000000000000\r\n", error::chunk_size_overflow);
  expect_chunked_error("ffffffffffffffffffff\r\n", error::chunk_size_overflow);
  // Leading zeros do not count.
  EXPECT_EQ(chunked("00000000000000000000005\r\nhello\r\n0\r\n\r\n").data, "hello");
}

TEST(http_body, rfc9112_7_1_1_extensions_checked_and_dropped) {
  for (const char* t : {"5;a\r\nhello\r\n0\r\n\r\n", "5 ; a = b ;c\r\nhello\r\n0;x=\"y \\\" z\"\r\n\r\n",
                        "5;a=\"\"\r\nhello\r\n0\r\n\r\n", "5\t;a\t=\tb\t\r\nhello\r\n0\r\n\r\n"}) {
    decoded d = chunked(t);
    EXPECT_EQ(d.st, status::done) << printable(t) << " " << error_name(d.err);
    EXPECT_EQ(d.data, "hello") << printable(t);
  }
  for (const char* t : {"5;\r\n", "5 \r\n", "5;a=\r\n", "5;=b\r\n", "5;a=b c\r\n", "5;a=\"b\r\n", "5;a=\"\x01\"\r\n",
                        "5;a b\r\n", "5;a=b=c\r\n", "5,a\r\n"}) {
    decoded d = chunked(t);
    EXPECT_EQ(d.st, status::error) << printable(t);
    EXPECT_TRUE(d.err == error::bad_chunk_ext || d.err == error::bad_chunk_size) << printable(t) << " "
                                                                                  << error_name(d.err);
  }
}

TEST(http_body, chunk_size_line_bounded) {
  body_limits lim;
  lim.max_chunk_line = 16;
  // "5;" + 11 bytes + CRLF = 15.
  EXPECT_EQ(chunked("5;abcdefghijk\r\nhello\r\n0\r\n\r\n", lim).st, status::done);
  expect_chunked_error("5;abcdefghijklmn\r\nhello\r\n0\r\n\r\n", error::chunk_line_too_long, lim);
  // The default holds any sane extension and stops a flood.
  expect_chunked_error("5;" + std::string(5000, 'a') + "\r\n", error::chunk_line_too_long);
}

TEST(http_body, rfc9112_7_1_chunk_data_followed_by_crlf) {
  expect_chunked_error("5\r\nhelloX\r\n", error::bad_chunk_end);
  expect_chunked_error("5\r\nhello\n0\r\n\r\n", error::bad_chunk_end);
  expect_chunked_error("5\r\nhello\rX", error::bad_chunk_end);
}

TEST(http_body, rfc9112_7_1_2_trailers_handed_out_and_checked) {
  decoded d = chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-B: c d\r\n\r\nNEXT");
  EXPECT_EQ(d.st, status::done);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.trailers, "X-Sum: 1\r\nX-B: c d\r\n");
  expect_chunked_error("0\r\nX: a\r\n b\r\n\r\n", error::obs_fold);
  expect_chunked_error("0\r\nX : a\r\n\r\n", error::space_before_colon);
  expect_chunked_error("0\r\nX(: a\r\n\r\n", error::bad_field_name);
  expect_chunked_error(std::string("0\r\nX: a\0\r\n\r\n", 12), error::bad_field_value);
  expect_chunked_error("0\r\nX: a\nY: b\r\n\r\n", error::bare_lf);
  expect_chunked_error("0\r\nX: a\rY\r\n\r\n", error::bare_cr);
  expect_chunked_error("0\r\n\rX", error::bare_cr);
}

TEST(http_body, trailers_bounded) {
  body_limits lim;
  lim.max_trailer_bytes = 12;
  // "X: 12345\r\n" (10) + CRLF = 12.
  EXPECT_EQ(chunked("0\r\nX: 12345\r\n\r\n", lim).st, status::done);
  expect_chunked_error("0\r\nX: 123456\r\n\r\n", error::trailers_too_large, lim);
  EXPECT_EQ(error_status(error::trailers_too_large), 431);
}

TEST(http_body, every_cut_and_one_piece_at_a_time_give_the_same_body) {
  const std::string bodies[] = {
      "5\r\nhello\r\n1;x=\"q\"\r\n!\r\n0\r\nT: v\r\nU: w\r\n\r\nNEXT",
      "5\r\nhello\r\n0\r\n\r\n",
      "5\r\nhel",
      "5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n",
  };
  for (const std::string& t : bodies) {
    decoded whole = chunked(t);
    EXPECT_EQ(decode(t, framing::chunked, 0, every_byte(t.size()), true, 64), whole) << printable(t);
    EXPECT_EQ(decode(t, framing::chunked, 0, every_byte(t.size()), false, 1), whole) << printable(t);
    for (size_t cut = 1; cut < t.size(); ++cut) {
      EXPECT_EQ(decode(t, framing::chunked, 0, {cut}, true, 64), whole) << printable(t) << " cut " << cut;
      EXPECT_EQ(decode(t, framing::chunked, 0, {cut}, false, 1), whole) << printable(t) << " cut " << cut;
    }
  }
  std::string counted = "0123456789tail";
  decoded whole = decode(counted, framing::length, 10);
  for (size_t cut = 1; cut < counted.size(); ++cut) {
    EXPECT_EQ(decode(counted, framing::length, 10, {cut}, true, 64), whole);
    EXPECT_EQ(decode(counted, framing::length, 10, {cut, cut + 1}, false, 1), whole);
  }
}

}  // namespace
}  // namespace kgw::http::test
