// HTTPS in the proxy over in-memory stacks: clients speak TLS (an OpenSSL
// client over memory BIOs, tests/unit/tls/tls_harness.h) to the gateway's
// https_port, where the TLS layer terminates it and the proxy serves the
// plaintext as on http_port (X-Forwarded-Proto https, the listener's port,
// 421 for a Host the certificate does not name, keep-alive, large bodies);
// and the 308 from http_port for hosts with TLS, with the ssl-redirect
// opt-outs. Every test checks that no mbuf leaked (the fixture's TearDown).
#include <openssl/ssl.h>

#include <string>

#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

constexpr uint64_t max_wait = 10'000'000'000;

// The bytes of a body nobody could guess: an LCG's high bytes.
std::string noise(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (char& ch : s) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    ch = static_cast<char>(seed >> 56);
  }
  return s;
}

TEST_F(ProxyTest, HttpsGetRoutedWithForwardedProto) {
  start();
  start_https();
  uint32_t c = open_tls(get("/x?y=1", "a.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << conn(c).in;
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.substr(0, 3), "pod");
  EXPECT_NE(r[0].body.find("path=/x?y=1"), std::string::npos) << r[0].body;
  EXPECT_EQ(r[0].header("connection"), "keep-alive");
  EXPECT_EQ(conn(c).tls->peer_cn(), "a.example.test");
  EXPECT_TRUE(conn(c).tls->verifies("a.example.test"));
  EXPECT_EQ(conn(c).tls->alpn(), "http/1.1");
  // The pod saw an https request on port 443.
  std::string req;
  for (int i = 1; i <= 3; ++i)
    if (!p(i).last_request.empty()) req = p(i).last_request;
  EXPECT_NE(req.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Forwarded-Port: 443\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Forwarded-Host: a.example.test\r\n"), std::string::npos) << req;
  EXPECT_EQ(counters.accepted, 1u);
  EXPECT_EQ(counters.https_accepted, 1u);
  EXPECT_EQ(tls_counters.handshakes_started, 1u);
  EXPECT_EQ(tls_counters.sni_exact, 1u);
  EXPECT_GT(tls_counters.bytes_out, r[0].body.size());

  // The same proxy on http_port: plain, port 80, and not redirected (a.example has no certificate).
  for (int i = 1; i <= 3; ++i) p(i).last_request.clear();
  uint32_t h = open(get("/plain", "a.example"));
  ASSERT_TRUE(run_until_responses(h, 1, max_wait));
  EXPECT_EQ(responses(conn(h).in)[0].status, 200);
  req.clear();
  for (int i = 1; i <= 3; ++i)
    if (!p(i).last_request.empty()) req = p(i).last_request;
  EXPECT_NE(req.find("X-Forwarded-Proto: http\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Forwarded-Port: 80\r\n"), std::string::npos) << req;
  EXPECT_EQ(counters.https_accepted, 1u);
  EXPECT_EQ(counters.https_redirects, 0u);
}

TEST_F(ProxyTest, HttpsPortOtherThan443Forwarded) {
  start();
  start_https(8443);
  uint32_t c = open_tls(get("/", "a.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << conn(c).in;
  EXPECT_EQ(responses(conn(c).in)[0].status, 200);
  std::string req;
  for (int i = 1; i <= 3; ++i)
    if (!p(i).last_request.empty()) req = p(i).last_request;
  EXPECT_NE(req.find("X-Forwarded-Port: 8443\r\n"), std::string::npos) << req;
}

// The SNI picked a.example.test's certificate; the request asks for a host
// that certificate does not name (but that the routes know): 421, nothing
// sent to a pod, the connection closed (close_notify, then the FIN).
TEST_F(ProxyTest, HttpsHostNotCoveredIs421) {
  start();
  start_https();
  uint32_t c = open_tls(get("/", "b.wild.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << conn(c).in;
  run(50'000'000);
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 1u) << conn(c).in;
  EXPECT_EQ(r[0].status, 421);
  EXPECT_NE(r[0].head.find("421 Misdirected Request"), std::string::npos) << r[0].head;
  EXPECT_EQ(r[0].header("connection"), "close");
  EXPECT_LT(r[0].body.size(), 100u);
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_EQ(SSL_get_shutdown(conn(c).tls->ssl) & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN)
      << "close_notify before the FIN";
  EXPECT_EQ(errors(http_reason::misdirected), 1u);
  EXPECT_EQ(counters.responses[4], 1u);
  EXPECT_EQ(p(1).requests + p(2).requests + p(3).requests, 0u);
  // Without SNI the default certificate serves, and names neither.
  uint32_t d = open_tls(get("/", "a.example.test"), "");
  ASSERT_TRUE(run_until_responses(d, 1, max_wait));
  EXPECT_EQ(responses(conn(d).in, true)[0].status, 421);
  EXPECT_EQ(errors(http_reason::misdirected), 2u);
}

// One wildcard certificate: a Host it covers is served on a connection
// whose SNI was another name it covers; Host's port does not matter.
TEST_F(ProxyTest, HttpsWildcardCoveredHostServed) {
  start();
  start_https();
  uint32_t c = open_tls(get("/w", "y.wild.example.test:443"), "x.wild.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << conn(c).in;
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200) << r[0].head;
  EXPECT_EQ(conn(c).tls->peer_cn(), "*.wild.example.test");
  EXPECT_EQ(tls_counters.sni_wildcard, 1u);
  EXPECT_EQ(errors(http_reason::misdirected), 0u);
  // The wildcard's one label: a.b.wild.example.test is not covered.
  send(c, get("/w", "a.b.wild.example.test"));
  ASSERT_TRUE(run_until_responses(c, 2, max_wait));
  EXPECT_EQ(responses(conn(c).in, true)[1].status, 421);
}

TEST_F(ProxyTest, HttpsKeepAliveManyRequestsOneHandshake) {
  start();
  start_https();
  // Two pipelined in the first write, then two more one after the other.
  uint32_t c = open_tls(get("/a", "a.example.test") + get("/b", "a.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 2, max_wait)) << conn(c).in;
  send(c, get("/c", "a.example.test"));
  ASSERT_TRUE(run_until_responses(c, 3, max_wait));
  send(c, get("/d", "a.example.test"));
  ASSERT_TRUE(run_until_responses(c, 4, max_wait));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 4u);
  const char* paths[] = {"path=/a", "path=/b", "path=/c", "path=/d"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r[i].status, 200);
    EXPECT_NE(r[i].body.find(paths[i]), std::string::npos) << r[i].body;
    EXPECT_EQ(r[i].header("connection"), "keep-alive");
  }
  EXPECT_FALSE(conn(c).peer_closed);
  EXPECT_EQ(counters.https_accepted, 1u);
  EXPECT_EQ(counters.requests, 4u);
  EXPECT_EQ(tls_counters.handshakes_started, 1u);
  // The client says goodbye: close_notify and FIN; the proxy ends its side in turn.
  shut(c);
  run(100'000'000);
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_EQ(tls_counters.close_notify, 1u);
  EXPECT_EQ(tls_counters.truncated, 0u);
  run(100'000'000);
  EXPECT_EQ(tls_counters.sessions, 0u);
}

// The proxy's timeouts over TLS: an idle keep-alive connection is closed
// with close_notify and FIN at ingress.timeouts.client_idle; a client that
// resets mid-exchange gives its session back.
TEST_F(ProxyTest, HttpsIdleClosedAndResetReleased) {
  start();
  start_https();
  uint32_t c = open_tls(get("/", "a.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, max_wait));
  EXPECT_EQ(tls_counters.sessions, 1u);
  run(settings.client_idle_ns + 500'000'000, 10'000'000);
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_EQ(SSL_get_shutdown(conn(c).tls->ssl) & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN);
  EXPECT_EQ(counters.client_idle_closed, 1u);
  run(200'000'000);
  EXPECT_EQ(tls_counters.sessions, 0u);

  p(1).mode = p(2).mode = p(3).mode = pod_mode::silent;
  uint32_t r = open_tls(get("/", "a.example.test"), "a.example.test");
  run(100'000'000);
  EXPECT_EQ(p(1).requests + p(2).requests + p(3).requests, 2u) << "the second request reached a pod";
  EXPECT_EQ(tls_counters.sessions, 1u);
  tcp::tcp_abort(*client, conn(r).id);
  conn(r).released = true;
  run(100'000'000);
  EXPECT_EQ(counters.client_resets, 1u);
  EXPECT_EQ(tls_counters.sessions, 0u);
}

// 1.5 MiB down and 1 MB up through TLS on the client side, byte for byte.
TEST_F(ProxyTest, HttpsLargeBodiesIntact) {
  settings.client_idle_ns = 75'000'000'000;
  settings.backend_read_ns = 60'000'000'000;
  start();
  start_https();
  std::string big = noise(3 << 19, 99);
  std::string up = noise(1'000'000, 7);
  auto respond = [&](const std::string& req) {
    if (req.rfind("POST", 0) == 0) {
      size_t body = req.find("\r\n\r\n");
      std::string verdict = body != std::string::npos && req.substr(body + 4) == up ? "same" : "differs";
      return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(verdict.size()) + "\r\n\r\n" + verdict;
    }
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  };
  for (int i = 1; i <= 3; ++i) p(i).respond = respond;  // a.example.test's / is Service web
  uint32_t c = open_tls(get("/one", "a.example.test"), "a.example.test");
  ASSERT_TRUE(run_until_responses(c, 1, 60'000'000'000ull));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.size(), big.size());
  EXPECT_TRUE(r[0].body == big) << "the downloaded body differs";
  send(c, "POST /one HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: " + std::to_string(up.size()) + "\r\n\r\n" +
              up);
  ASSERT_TRUE(run_until_responses(c, 2, 60'000'000'000ull));
  r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].body, "same");
  EXPECT_GE(tls_counters.bytes_out, big.size());
  EXPECT_GE(tls_counters.bytes_in, up.size());
  EXPECT_EQ(counters.https_accepted, 1u);
}

// On http_port, a host with a certificate is sent to https: 308, the
// Location with path and query, the connection kept for the next request
// (which may be for a host without TLS, served).
TEST_F(ProxyTest, HttpRedirectedToHttpsForTlsHosts) {
  start();
  start_https();
  uint32_t c = open(get("/p/q?x=1&y", "a.example.test"));
  ASSERT_TRUE(run_until_responses(c, 1, max_wait));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 308);
  EXPECT_NE(r[0].head.find("308 Permanent Redirect"), std::string::npos);
  EXPECT_EQ(r[0].header("location"), "https://a.example.test/p/q?x=1&y");
  EXPECT_EQ(r[0].body, "https://a.example.test/p/q?x=1&y\n");
  EXPECT_EQ(r[0].header("connection"), "keep-alive");
  // The same connection: a host under the wildcard's certificate (redirected), then one without TLS (served).
  send(c, get("/.well-known/acme-challenge/t", "z.wild.example.test:80"));
  ASSERT_TRUE(run_until_responses(c, 2, max_wait));
  send(c, get("/", "a.example"));
  ASSERT_TRUE(run_until_responses(c, 3, max_wait));
  r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].status, 308);
  EXPECT_EQ(r[1].header("location"), "https://z.wild.example.test/.well-known/acme-challenge/t");
  EXPECT_EQ(r[2].status, 200);
  EXPECT_FALSE(conn(c).peer_closed);
  EXPECT_EQ(counters.https_redirects, 2u);
  EXPECT_EQ(counters.responses[3], 2u);
  EXPECT_EQ(p(1).requests + p(2).requests + p(3).requests, 1u) << "only the plain host reached a pod";
  // HEAD: the head alone (curl -I), then the connection still serves.
  send(c, "HEAD /h HTTP/1.1\r\nHost: a.example.test\r\n\r\n" + get("/", "a.example"));
  run(100'000'000);
  const std::string& in = conn(c).in;
  size_t head_at = in.find("HTTP/1.1 308", in.find("HTTP/1.1 200"));
  ASSERT_NE(head_at, std::string::npos) << in;
  size_t end = in.find("\r\n\r\n", head_at);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(in.compare(end + 4, 15, "HTTP/1.1 200 OK"), 0) << "no body after the HEAD's 308: " << in.substr(head_at);
  // A request with a body is answered and the connection closed (its body is not read).
  uint32_t b = open("POST /x HTTP/1.1\r\nHost: a.example.test\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(run_until_responses(b, 1, max_wait));
  run(50'000'000);
  auto rb = responses(conn(b).in, true);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0].status, 308);
  EXPECT_EQ(rb[0].header("connection"), "close");
  EXPECT_TRUE(conn(b).peer_closed);
}

TEST_F(ProxyTest, HttpRedirectCarriesAnOtherHttpsPort) {
  start();
  start_https(8443);
  uint32_t c = open(get("/a", "a.example.test"));
  ASSERT_TRUE(run_until_responses(c, 1, max_wait));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 308);
  EXPECT_EQ(r[0].header("location"), "https://a.example.test:8443/a");
}

// ssl-redirect: "false" on an Ingress (ingress-nginx's name and kgw's):
// its hosts with TLS are served on http_port.
TEST_F(ProxyTest, HttpRedirectOptOutByAnnotation) {
  start();
  start_https();
  for (const char* host : {"optout.wild.example.test", "kgw-optout.wild.example.test"}) {
    uint32_t c = open(get("/o", host));
    ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << host;
    auto r = responses(conn(c).in);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 200) << host << ": " << r[0].head;
    EXPECT_EQ(r[0].body.substr(0, 4), "pod1") << "Service one";
  }
  EXPECT_EQ(counters.https_redirects, 0u);
  // And over https they are served as well (the wildcard certificate covers them).
  uint32_t t = open_tls(get("/o", "optout.wild.example.test"), "optout.wild.example.test");
  ASSERT_TRUE(run_until_responses(t, 1, max_wait));
  EXPECT_EQ(responses(conn(t).in)[0].status, 200);
}

// Without https_port nothing is redirected: the hosts have certificates,
// but nowhere to go.
TEST_F(ProxyTest, NoRedirectWithoutHttpsPort) {
  start();
  uint32_t c = open(get("/", "a.example.test"));
  ASSERT_TRUE(run_until_responses(c, 1, max_wait));
  EXPECT_EQ(responses(conn(c).in)[0].status, 200);
  EXPECT_EQ(counters.https_redirects, 0u);
}

}  // namespace
}  // namespace kgw::proxy::test
