// The gateway's cost per request, counted where the machine's noise cannot
// reach it: perf/proxy/instructions runs these cases under callgrind at two
// request counts (KGW_PROXY_COST_REQUESTS) and divides the difference of the
// gateway's instructions (the fixture's kgw_gateway_* functions and
// gateway_events: its TCP input and output, the proxy, the TLS layer) by the
// difference of requests. In the unit suite they run a few requests and
// check only that each is answered whole.
//
// Each case prints one line for the script:
//   cost: requests N segments_in I segments_out O
// the gateway stack's segment counters, for segments per request.
#include <cstdio>
#include <cstdlib>

#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

constexpr uint64_t max_wait = 10'000'000'000;

uint32_t cost_requests() {
  const char* e = std::getenv("KGW_PROXY_COST_REQUESTS");
  int n = e ? std::atoi(e) : 0;
  return n > 0 ? static_cast<uint32_t>(n) : 5;
}

void print_cost(const ProxyTest& t, uint32_t requests) {
  const tcp::tcp_counters& k = tcp::tcp_stack_counters(*t.gw);
  std::printf("cost: requests %u segments_in %lu segments_out %lu\n", requests,
              static_cast<unsigned long>(k.segments_in), static_cast<unsigned long>(k.segments_out));
}

// One client connection carrying `request` after `request`, each answered
// before the next, to one endpoint through the gateway's pooled backend
// connection.
void keep_alive_requests(ProxyTest& t, const std::string& request) {
  t.start();
  const uint32_t n = cost_requests();
  uint32_t c = t.open(request);
  for (uint32_t i = 1; i <= n; ++i) {
    ASSERT_TRUE(t.run_until_responses(c, i)) << "request " << i;
    if (i < n) t.send(c, request);
  }
  auto r = responses(t.conn(c).in);
  ASSERT_EQ(r.size(), n);
  for (auto& x : r) EXPECT_EQ(x.status, 200);
  EXPECT_EQ(t.counters.accepted, 1u);
  EXPECT_EQ(t.p(1).accepted, 1u);  // one backend connection for all of them
  print_cost(t, n);
}

// wrk's request: the request line and Host.
TEST_F(ProxyTest, CostKeepAliveRequests) { keep_alive_requests(*this, get("/one")); }

// A browser's: 470 bytes of fields (as a desktop Firefox sends them).
TEST_F(ProxyTest, CostKeepAliveBrowserRequests) {
  keep_alive_requests(
      *this, get("/one/assets/app.js?v=3", "a.example",
                 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
                 "Accept-Language: en-US,en;q=0.5\r\n"
                 "Accept-Encoding: gzip, deflate, br, zstd\r\n"
                 "Referer: https://a.example/one/index.html\r\n"
                 "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n"
                 "Upgrade-Insecure-Requests: 1\r\n"
                 "Sec-Fetch-Dest: script\r\n"
                 "Sec-Fetch-Mode: no-cors\r\n"
                 "Sec-Fetch-Site: same-origin\r\n"
                 "Priority: u=2\r\n"));
}

// A new client connection per request, closed by the gateway after the
// response (Connection: close), the backend connection pooled.
TEST_F(ProxyTest, CostNewConnectionPerRequest) {
  start();
  const uint32_t n = cost_requests();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t c = open(get("/one", "a.example", "Connection: close\r\n"));
    ASSERT_TRUE(run_until_responses(c, 1)) << "request " << i;
    run(2'000'000);  // the close completes
    EXPECT_TRUE(conn(c).peer_closed);
    EXPECT_EQ(responses(conn(c).in, true).at(0).status, 200);
  }
  EXPECT_EQ(counters.accepted, n);
  EXPECT_EQ(p(1).accepted, 1u);
  print_cost(*this, n);
}

// HTTPS: request after request on one TLS connection (one handshake).
TEST_F(ProxyTest, CostHttpsKeepAliveRequests) {
  start();
  start_https();
  const uint32_t n = cost_requests();
  uint32_t c = open_tls(get("/one", "a.example.test"), "a.example.test");
  for (uint32_t i = 1; i <= n; ++i) {
    ASSERT_TRUE(run_until_responses(c, i, max_wait)) << "request " << i;
    if (i < n) send(c, get("/one", "a.example.test"));
  }
  ASSERT_EQ(responses(conn(c).in).size(), n);
  EXPECT_EQ(tls_counters.handshakes_started, 1u);
  print_cost(*this, n);
}

// HTTPS: a new TLS connection (a full handshake, TLS 1.3, the EC
// certificate) per request, closed after the response.
TEST_F(ProxyTest, CostHttpsNewConnectionPerRequest) {
  start();
  start_https();
  const uint32_t n = cost_requests();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t c = open_tls(get("/one", "a.example.test", "Connection: close\r\n"), "a.example.test");
    ASSERT_TRUE(run_until_responses(c, 1, max_wait)) << "request " << i;
    run(2'000'000);
    EXPECT_EQ(responses(conn(c).in, true).at(0).status, 200);
  }
  EXPECT_EQ(tls_counters.handshakes_started, n);
  print_cost(*this, n);
}

}  // namespace
}  // namespace kgw::proxy::test
