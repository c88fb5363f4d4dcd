// kgw's parser against Debian's libhttp-parser (joyent http_parser 2.9) over
// one corpus of valid and invalid requests. Where both accept, method,
// target, fields and body (framing included) must agree. Where they disagree,
// the case is listed below with the RFC rule that makes kgw right; a listed
// case that stops disagreeing, or a new disagreement, fails the test.
#include <gtest/gtest.h>
#include <http_parser.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/http/http_test_util.h"

namespace kgw::http::test {
namespace {

// What one parser made of a request (the first message of the input).
struct verdict {
  bool accepted = false;
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> fields;
  bool chunked = false;
  uint64_t content_length = 0;  // with chunked false; 0 when no body
  std::string why;              // kgw's error name, or joyent's errno name
};

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  return s;
}

std::string trim_ows(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// ---- joyent ----

struct joyent_state {
  verdict v;
  bool in_value = false;
  bool complete = false;
};

int on_url(::http_parser* p, const char* at, size_t n) {
  static_cast<joyent_state*>(p->data)->v.target.append(at, n);
  return 0;
}
int on_field(::http_parser* p, const char* at, size_t n) {
  auto* s = static_cast<joyent_state*>(p->data);
  if (s->in_value || s->v.fields.empty()) s->v.fields.emplace_back();
  s->in_value = false;
  s->v.fields.back().first.append(at, n);
  return 0;
}
int on_value(::http_parser* p, const char* at, size_t n) {
  auto* s = static_cast<joyent_state*>(p->data);
  if (s->v.fields.empty()) s->v.fields.emplace_back();
  s->in_value = true;
  s->v.fields.back().second.append(at, n);
  return 0;
}
int on_headers_complete(::http_parser* p) {
  auto* s = static_cast<joyent_state*>(p->data);
  s->v.chunked = (p->flags & F_CHUNKED) != 0;
  if (!s->v.chunked && p->content_length != ULLONG_MAX) s->v.content_length = p->content_length;
  s->v.method = http_method_str(static_cast<http_method>(p->method));
  return 0;
}
int on_body(::http_parser* p, const char* at, size_t n) {
  static_cast<joyent_state*>(p->data)->v.body.append(at, n);
  return 0;
}
int on_message_complete(::http_parser* p) {
  static_cast<joyent_state*>(p->data)->complete = true;
  http_parser_pause(p, 1);
  return 0;
}

verdict run_joyent(const std::string& input) {
  ::http_parser p;
  http_parser_init(&p, HTTP_REQUEST);
  joyent_state s;
  p.data = &s;
  http_parser_settings cb;
  http_parser_settings_init(&cb);
  cb.on_url = on_url;
  cb.on_header_field = on_field;
  cb.on_header_value = on_value;
  cb.on_headers_complete = on_headers_complete;
  cb.on_body = on_body;
  cb.on_message_complete = on_message_complete;
  http_parser_execute(&p, &cb, input.data(), input.size());
  auto err = HTTP_PARSER_ERRNO(&p);
  s.v.accepted = s.complete && (err == HPE_OK || err == HPE_PAUSED);
  s.v.why = s.complete ? "complete" : http_errno_name(err);
  for (auto& f : s.v.fields) f.second = trim_ows(f.second);
  return s.v;
}

// ---- kgw ----

verdict run_kgw(const std::string& input) {
  verdict v;
  segments s(input, {});
  head_parser p;
  head_parser_init(p, message_kind::request, limits{});
  feed_result r = head_feed(p, s.start());
  if (r.st != status::done) {
    v.why = r.st == status::more ? "more" : error_name(r.err);
    return v;
  }
  const head& h = p.h;
  v.method = read(h.base, h.method_name);
  v.target = read(h.base, h.target);
  for (uint16_t i = 0; i < h.n_fields; ++i)
    v.fields.emplace_back(read(h.base, h.fields[i].name()), read(h.base, h.fields[i].value()));
  v.chunked = h.body == framing::chunked;
  if (h.body == framing::length) v.content_length = h.content_length;
  body_decoder b;
  body_init(b, h);
  piece pieces[16];
  body_result br;
  cursor at = r.next;
  std::string trailers;
  do {
    br = body_feed(b, at, pieces, 16);
    for (uint16_t i = 0; i < br.n_pieces; ++i)
      (pieces[i].kind == piece_kind::data ? v.body : trailers) += read(pieces[i].at, span{0, pieces[i].len});
    at = br.next;
  } while (br.full);
  // joyent hands trailer fields out as fields: split the trailer lines
  // (already checked by the decoder) the same way.
  for (size_t line = 0; line < trailers.size();) {
    size_t end = trailers.find("\r\n", line);
    size_t colon = trailers.find(':', line);
    v.fields.emplace_back(trailers.substr(line, colon - line), trim_ows(trailers.substr(colon + 1, end - colon - 1)));
    line = end + 2;
  }
  v.accepted = br.st == status::done;
  v.why = br.st == status::done ? "complete" : br.st == status::more ? "body more" : error_name(br.err);
  return v;
}

// Where both accept, the two must have read the same message.
void expect_same_reading(const std::string& input, const verdict& k, const verdict& j) {
  SCOPED_TRACE(printable(input));
  EXPECT_EQ(k.method, j.method);
  EXPECT_EQ(k.target, j.target);
  ASSERT_EQ(k.fields.size(), j.fields.size());
  for (size_t i = 0; i < k.fields.size(); ++i) {
    EXPECT_EQ(lower_ascii(k.fields[i].first), lower_ascii(j.fields[i].first));
    EXPECT_EQ(k.fields[i].second, j.fields[i].second);
  }
  EXPECT_EQ(k.chunked, j.chunked);
  EXPECT_EQ(k.content_length, j.content_length);
  EXPECT_EQ(k.body, j.body);
}

struct dcase {
  std::string input;
  // Empty when the two parsers agree; otherwise the RFC rule that makes kgw's
  // verdict (kgw_accepts) right and joyent's wrong.
  const char* why_kgw_is_right = "";
  bool kgw_accepts = false;
};

std::string get(std::string_view fields) { return "GET / HTTP/1.1\r\n" + std::string(fields) + "\r\n"; }
std::string post(std::string_view fields, std::string_view body) {
  return "POST /submit HTTP/1.1\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

const std::vector<dcase>& corpus() {
  static const std::vector<dcase> c = {
      // Both accept, and must read the same.
      {get("Host: example.com\r\nAccept: */*\r\nUser-Agent: curl/8.0\r\n")},
      {"GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n"},
      {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"},
      {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"GET / HTTP/1.0\r\n\r\n"},
      {"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n"},
      {get("Host: a\r\nX-Spaces:   padded value  \r\n")},
      {get("Host: a\r\nX-Empty:\r\n")},
      {get("Host: a\r\nX-Obs: caf\xc3\xa9\r\n")},
      {get("Host: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n")},
      {post("Host: a\r\nContent-Length: 5\r\n", "hello")},
      {post("Host: a\r\nContent-Length: 0\r\n", "")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5;ext=1\r\nhello\r\n0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", "1\r\nz\r\n0\r\n\r\n")},
      {post("Host: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n", "ok")},
      // Both refuse.
      {get("Host: a\r\nX: a\rb\r\n")},
      {"GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: z\r\n\r\n"},
      {get("Host: a\r\nX: a\x01z\r\n")},
      {"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n"},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n")},
      {"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n"},
      {get("Host\t: a\r\n")},
      {post("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: gzip\r\n", "hello")},
      {post("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: identity\r\n", "")},
      {post("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: xchunked\r\n", "0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "10000000000000005\r\nhello\r\n0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n")},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\n0\r\n\r\n")},
      {post("Host: a\r\nContent-Length: +5\r\n", "hello")},
      {post("Host: a\r\nContent-Length: 5 5\r\n", "hello")},
      {get("Host: a\r\nX: a\x7f\r\n")},
      {std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35)},
      {"PURGE / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},

      // They disagree. kgw refuses what RFC 9112 tells a server to refuse, and
      // wherever looseness would let a backend read a different message.
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5\r\nhelloXX0\r\n\r\n"),
       "RFC 9112 7.1: chunk-data is followed by CRLF; skipping bytes there desynchronizes framing"},
      {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "RFC 9112 2.3 / RFC 9110 15.6.6: not HTTP/1.x, answer 505"},
      {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", "RFC 9110 2.5: kgw speaks 1.0 and 1.1 only and answers 505"},
      {"GET / HTTP/1.1\nHost: a\n\n", "RFC 9112 2.2: CRLF ends lines; bare LF refused (MAY accept, kgw does not)"},
      {"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", "RFC 9112 2.2: bare LF refused"},
      {get("Host: a\r\nX: b\r\n c\r\n"), "RFC 9112 5.2: a server MUST reject obs-fold with 400 (or replace it)"},
      {get(" Host: a\r\n"), "RFC 9112 2.2: whitespace before the first field line MUST be rejected or skipped"},
      {get("Host : a\r\n"), "RFC 9112 5.1: whitespace between field name and colon MUST be rejected with 400"},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n"),
       "RFC 9112 7.1.1: whitespace after a chunk size only before \";\" (BWS of chunk-ext)"},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "5;a=\"b\r\nhello\r\n0\r\n\r\n"),
       "RFC 9112 7.1.1: chunk-ext-val is a token or a closed quoted-string"},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "0\r\nX: a\r\n b\r\n\r\n"),
       "RFC 9112 7.1.2 and 5.2: trailer fields are field lines; obs-fold refused"},
      {post("Host: a\r\nTransfer-Encoding: chunked\r\n", "0\r\nX : a\r\n\r\n"),
       "RFC 9112 7.1.2 and 5.1: no whitespace before a trailer field's colon"},
      {post("Host: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n", "hello"),
       "RFC 9110 8.6: identical Content-Length lines MAY be taken as one value; no ambiguity", true},
      {post("Host: a\r\nContent-Length: 5, 5\r\n", "hello"),
       "RFC 9110 8.6: a list of identical values MAY be replaced by one value", true},
      {post("Content-Length: 5\r\n", "hello"), "RFC 9112 3.2: an HTTP/1.1 request without Host MUST get 400"},
      {get("X: 1\r\n"), "RFC 9112 3.2: missing Host MUST get 400"},
      {get("Host: a\r\nHost: b\r\n"), "RFC 9112 3.2: more than one Host line MUST get 400"},
      {get("Host: a b\r\n"), "RFC 9112 3.2: Host with an invalid value MUST get 400 (uri-host has no SP)"},
      {get("Host: a/b\r\n"), "RFC 9112 3.2, RFC 3986 3.2.2: '/' is not in reg-name"},
      {get("Host: a:99999\r\n"), "RFC 9112 3.2: port beyond 65535 names no TCP port"},
      {get("Host: user@a\r\n"), "RFC 9110 7.2: Host is uri-host [ \":\" port ], no userinfo"},
      {"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3.2: origin-form has no fragment"},
      {"GET /a|b HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3.2.1, RFC 3986 3.3: '|' is not a pchar"},
      {"GET /a{b} HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 3986 3.3: '{' '}' are not pchars"},
      {"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 3986 3.3: DQUOTE is not a pchar"},
      {"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 3986 2.1: pct-encoded is % HEXDIG HEXDIG"},
      {"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 3986 2: non-ASCII is pct-encoded in a URI"},
      {"GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9110 4.2.4: userinfo in an http URI is an error"},
      {"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
       "RFC 9112 3.2.2: kgw is a reverse proxy for http and https targets only"},
      {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3.2.4: asterisk-form is for OPTIONS only"},
      {"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3.2.3: CONNECT takes the authority-form"},
      {"CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3.2.3: authority-form is uri-host \":\" port"},
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "RFC 9112 3: single SP between request-line parts"},
      {"get / HTTP/1.1\r\nHost: a\r\n\r\n",
       "RFC 9110 9.1: a method is any token, case-sensitive; an unknown one goes on to the origin", true},
      {post("Host: a\r\nExpect: something\r\nContent-Length: 0\r\n", ""),
       "RFC 9110 10.1.1: an expectation other than 100-continue MAY get 417"},
      {post("Host: a\r\nConnection: a/b\r\nContent-Length: 0\r\n", ""),
       "RFC 9110 7.6.1: Connection is a list of tokens"},
      {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing"},
  };
  return c;
}

TEST(http_differential, against_joyent_http_parser) {
  for (const dcase& c : corpus()) {
    verdict k = run_kgw(c.input), j = run_joyent(c.input);
    std::string trace = printable(c.input) + "\n kgw: " + k.why + "\n joyent: " + j.why;
    if (*c.why_kgw_is_right == '\0') {
      EXPECT_EQ(k.accepted, j.accepted) << trace;
      if (k.accepted && j.accepted) expect_same_reading(c.input, k, j);
    } else {
      EXPECT_NE(k.accepted, j.accepted) << "no longer disagree: " << trace;
      EXPECT_EQ(k.accepted, c.kgw_accepts) << trace;
    }
  }
}

// Single-byte substitutions at every position of a few valid requests: a
// corpus nobody chose. Where both accept they must read the same message;
// where they disagree, the rule that makes kgw right is the one its verdict
// names (kgw refuses) or the one joyent breaks (joyent refuses).
const std::map<std::string, const char*>& kgw_refusals_explained() {
  static const std::map<std::string, const char*> m = {
      {"bare_lf", "RFC 9112 2.2: CRLF ends a line"},
      {"bare_cr", "RFC 9112 2.2: a bare CR MUST be refused or replaced"},
      {"obs_fold", "RFC 9112 5.2 and 2.2: obs-fold and whitespace before the first field refused"},
      {"space_before_colon", "RFC 9112 5.1: MUST be refused with 400"},
      {"bad_target", "RFC 9112 3.2, RFC 3986: request-target grammar"},
      {"target_form", "RFC 9112 3.2.3, 3.2.4: forms tied to CONNECT and OPTIONS"},
      {"bad_host", "RFC 9112 3.2: a Host with an invalid value MUST get 400"},
      {"missing_host", "RFC 9112 3.2: HTTP/1.1 without Host MUST get 400"},
      {"duplicate_host", "RFC 9112 3.2: more than one Host MUST get 400"},
      {"bad_request_line", "RFC 9112 3: single SP between the parts"},
      {"version_unsupported", "RFC 9112 2.3: kgw speaks 1.0 and 1.1 and answers 505"},
      {"bad_chunk_ext", "RFC 9112 7.1.1: chunk-ext grammar"},
      {"bad_chunk_end", "RFC 9112 7.1: chunk-data CRLF"},
      {"bad_connection", "RFC 9110 7.6.1: Connection is a token list"},
      {"expectation_failed", "RFC 9110 10.1.1: unknown expectations MAY get 417"},
      {"te_not_chunked", "RFC 9112 6.3: a request's final coding must be chunked"},
      {"unknown_transfer_coding", "RFC 9112 6.1: unknown codings get 501"},
      {"bad_transfer_encoding", "RFC 9112 6.1, 7: coding list grammar, chunked once"},
      {"bad_field_value", "RFC 9110 5.5: CTLs are not field content"},
      {"bad_field_name", "RFC 9110 5.1: field names are tokens"},
      {"bad_content_length", "RFC 9110 8.6: Content-Length = 1*DIGIT"},
      {"te_in_http10", "RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing"},
      {"bad_chunk_size", "RFC 9112 7.1: chunk-size = 1*HEXDIG"},
      {"bad_version", "RFC 9112 2.3: HTTP-version is \"HTTP/\" DIGIT \".\" DIGIT, case-sensitive"},
  };
  return m;
}

const std::map<std::string, const char*>& joyent_refusals_explained() {
  static const std::map<std::string, const char*> m = {
      {"HPE_INVALID_METHOD", "RFC 9110 9.1: any token is a method; joyent knows a fixed list"},
      {"HPE_INVALID_TRANSFER_ENCODING", "RFC 9110 5.6.1.2: empty list elements are ignored"},
  };
  return m;
}

TEST(http_differential, single_byte_substitutions) {
  const std::string seeds[] = {
      "GET /p/a?q=1 HTTP/1.1\r\nHost: a.example:80\r\nConnection: keep-alive\r\nX-Y: v w\r\n\r\n",
      "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
      "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;e=v\r\nabc\r\n0\r\nT: 1\r\n\r\n",
  };
  const char subs[] = {'\0', '\t', '\n', '\r', ' ', '"', '%', ',', '/', ':', ';', '@', 'A', 'z', '0', '9', '\x7f', '\x80'};
  std::map<std::string, int> seen;
  int both_accept = 0, both_refuse = 0;
  for (const std::string& seed : seeds) {
    for (size_t i = 0; i < seed.size(); ++i) {
      for (char c : subs) {
        if (seed[i] == c) continue;
        std::string t = seed;
        t[i] = c;
        verdict k = run_kgw(t), j = run_joyent(t);
        std::string trace = printable(t) + "\n kgw: " + k.why + "\n joyent: " + j.why;
        if (k.accepted && j.accepted) {
          ++both_accept;
          expect_same_reading(t, k, j);
        } else if (!k.accepted && !j.accepted) {
          ++both_refuse;
        } else if (!k.accepted) {
          // kgw refused, or found the message unfinished: either way the
          // reason must be a rule the RFCs give ("more" is not one).
          EXPECT_TRUE(kgw_refusals_explained().count(k.why)) << "unexplained: " << trace;
          ++seen["kgw refuses: " + k.why];
        } else {
          EXPECT_TRUE(joyent_refusals_explained().count(j.why)) << "unexplained: " << trace;
          ++seen["joyent refuses: " + j.why];
        }
      }
    }
  }
  // The corpus exercises both sides.
  EXPECT_GT(both_accept, 100);
  EXPECT_GT(both_refuse, 100);
  for (const auto& [what, n] : seen) printf("  %-45s %d\n", what.c_str(), n);
}

}  // namespace
}  // namespace kgw::http::test
