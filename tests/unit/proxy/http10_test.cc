// HTTP/1.0 clients behind the proxy, whose endpoints speak HTTP/1.1: a
// chunked response reaches them de-chunked and delimited by the close (RFC
// 9112 6.1, 7.1), no 1xx reaches them (RFC 9110 15.2), and a coding they
// could not be told of is a 502; a Content-Length response and everything an
// HTTP/1.1 client gets are unchanged. And a 426 keeps its Upgrade (RFC 9110
// 15.5.22).
#include <string>

#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

std::string get10(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.0\r\nHost: a.example\r\n" + extra + "\r\n";
}

// The head of the first response in `in`, and what follows it.
std::string head_of(const std::string& in) { return in.substr(0, in.find("\r\n\r\n") + 4); }
std::string after_head(const std::string& in) {
  size_t at = in.find("\r\n\r\n");
  return at == std::string::npos ? "" : in.substr(at + 4);
}

// A chunked body with an extension and a trailer, and the data it carries.
const std::string chunked_body = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";
const std::string chunked_head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(ProxyTest, Http10ClientGetsChunkedResponseDechunked) {
  start();
  p(1).respond = [](const std::string&) { return chunked_head + chunked_body; };
  // Keep-alive asked for: the body has no length, so the close ends it all the same.
  uint32_t c = open(get10("/one", "Connection: keep-alive\r\n"));
  run(200'000'000);
  const std::string& in = conn(c).in;
  auto r = responses(in, true);
  ASSERT_EQ(r.size(), 1u) << in;
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].header("transfer-encoding"), "") << r[0].head;
  EXPECT_EQ(r[0].header("content-length"), "");
  EXPECT_EQ(r[0].header("connection"), "close");
  EXPECT_EQ(r[0].header("content-type"), "text/plain");
  EXPECT_EQ(r[0].header("x-trailer"), "");
  EXPECT_EQ(after_head(in), "hello, world");
  EXPECT_TRUE(conn(c).peer_closed) << "the close ends the body";
  // The endpoint's side ended in order: its connection went back to the pool.
  EXPECT_EQ(counters.pool_put, 1u);
  EXPECT_EQ(counters.responses[2], 1u);
}

// A large body in chunks of many sizes, cut across segments and windows:
// the data comes through byte for byte.
TEST_F(ProxyTest, Http10ClientGetsLargeChunkedBodyWhole) {
  start();
  std::string data, body;
  uint64_t x = 12345;
  while (data.size() < 300'000) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    size_t n = 1 + (x >> 33) % 5000;
    std::string chunk(n, static_cast<char>('a' + (x >> 20) % 26));
    char size[16];
    std::snprintf(size, sizeof size, "%zx", n);
    body += std::string(size) + "\r\n" + chunk + "\r\n";
    data += chunk;
  }
  body += "0\r\n\r\n";
  p(1).respond = [&](const std::string&) { return chunked_head + body; };
  uint32_t c = open(get10("/one"));
  run(2'000'000'000);
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_EQ(head_of(conn(c).in).find("Transfer-Encoding"), std::string::npos);
  std::string got = after_head(conn(c).in);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "the de-chunked body differs";
}

TEST_F(ProxyTest, Http10ClientContentLengthResponseUnchanged) {
  start();
  uint32_t c = open(get10("/one", "Connection: keep-alive\r\n") + get10("/one"));
  ASSERT_TRUE(run_until_responses(c, 2));
  run(100'000'000);
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 2u) << conn(c).in;
  EXPECT_EQ(r[0].header("connection"), "keep-alive");
  EXPECT_EQ(r[0].header("content-length"), std::to_string(r[0].body.size()));
  EXPECT_EQ(r[0].body.substr(0, 4), "pod1");
  EXPECT_EQ(r[1].header("connection"), "close");
  EXPECT_TRUE(conn(c).peer_closed);
}

TEST_F(ProxyTest, Http11ClientGetsChunkedResponseAsSent) {
  start();
  p(1).respond = [](const std::string&) { return chunked_head + chunked_body; };
  uint32_t c = open(get("/one") + get("/one"));
  ASSERT_TRUE(run_until_responses(c, 2));
  const std::string& in = conn(c).in;
  auto r = responses(in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].header("transfer-encoding"), "chunked");
  EXPECT_EQ(r[0].header("connection"), "keep-alive");
  EXPECT_EQ(r[0].body, "hello, world");
  EXPECT_EQ(in.substr(head_of(in).size(), chunked_body.size()), chunked_body) << "chunks, extension and trailer as sent";
  EXPECT_FALSE(conn(c).peer_closed);
}

// No 1xx to an HTTP/1.0 client (an endpoint's 103 Early Hints); an HTTP/1.1
// client gets it.
TEST_F(ProxyTest, Http10ClientGetsNoInterimResponse) {
  start();
  p(1).respond = [](const std::string&) {
    return std::string("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  };
  uint32_t c10 = open(get10("/one"));
  run(200'000'000);
  auto r = responses(conn(c10).in, true);
  ASSERT_EQ(r.size(), 1u) << conn(c10).in;
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, "ok");
  uint32_t c11 = open(get("/one"));
  ASSERT_TRUE(run_until_responses(c11, 2));
  auto r11 = responses(conn(c11).in);
  EXPECT_EQ(r11[0].status, 103);
  EXPECT_EQ(r11[1].status, 200);
}

// A coding besides chunked cannot be taken off: 502 for the HTTP/1.0 client.
TEST_F(ProxyTest, Http10ClientOtherTransferCoding502) {
  start();
  p(1).respond = [](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n");
  };
  uint32_t c = open(get10("/one"));
  ASSERT_TRUE(run_until_responses(c, 1));
  run(50'000'000);
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 502);
  EXPECT_EQ(r[0].header("transfer-encoding"), "");
  EXPECT_EQ(errors(http_reason::backend_invalid), 1u);
}

// A 426 must carry Upgrade (RFC 9110 15.5.22), named in Connection (7.8);
// in other responses Upgrade stays hop-by-hop.
TEST_F(ProxyTest, UpgradeRequiredKeepsUpgrade) {
  start();
  p(1).respond = [](const std::string& req) {
    std::string status = req.find("/one/426") != std::string::npos ? "426 Upgrade Required" : "200 OK";
    return "HTTP/1.1 " + status + "\r\nUpgrade: TLS/1.2, HTTP/1.1\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n";
  };
  uint32_t c = open(get("/one/426") + get("/one/200"));
  ASSERT_TRUE(run_until_responses(c, 2));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, 426);
  EXPECT_EQ(r[0].header("upgrade"), "TLS/1.2, HTTP/1.1") << r[0].head;
  EXPECT_EQ(r[0].header("connection"), "upgrade, keep-alive");
  EXPECT_EQ(r[1].status, 200);
  EXPECT_EQ(r[1].header("upgrade"), "") << r[1].head;
  EXPECT_EQ(r[1].header("connection"), "keep-alive");
}

}  // namespace
}  // namespace kgw::proxy::test
