// IPv6 through the proxy over in-memory stacks: a client of the IPv6 Ingress
// address reaches IPv6 Pod IPs from the IPv6 SNAT address; a dual-stack
// Service is reached in the client's family; a Service with endpoints of one
// family only serves clients of either; no SNAT address of a family, no
// endpoints of it.
#include <string>

#include "pipelines/parse/parse.h"
#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

// The pod connection that served the last request to pod i.
const app_conn& last_conn(ProxyTest& t, int i) {
  const app_conn* last = nullptr;
  for (const auto& [k, c] : t.p(i).conns)
    if (c.requests && (!last || c.serial > last->serial)) last = &c;
  EXPECT_NE(last, nullptr);
  static app_conn none;
  return last ? *last : none;
}

TEST_F(ProxyTest, Ipv6ClientToIpv6Pods) {
  start();
  std::string seen;
  for (int i = 0; i < 4; ++i) {
    uint32_t c = open6(get("/six/x"));
    ASSERT_TRUE(run_until_responses(c, 1)) << conn(c).in;
    auto r = responses(conn(c).in);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 200);
    seen += r[0].body.substr(0, 4);
  }
  EXPECT_EQ(seen, "pod1pod2pod1pod2");
  for (int i = 1; i <= 2; ++i) {
    const app_conn& pc = last_conn(*this, i);
    EXPECT_EQ(pc.family, 6);
    EXPECT_TRUE(pc.peer == snat_ip6) << "the IPv6 SNAT address";
  }
  const std::string& req = p(1).last_request;
  EXPECT_NE(req.find("X-Forwarded-For: 2001:2::2\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Real-IP: 2001:2::2\r\n"), std::string::npos) << req;
  EXPECT_EQ(counters.responses[2], 4u);
}

TEST_F(ProxyTest, DualStackServiceInTheClientsFamily) {
  start();
  uint32_t c6 = open6(get("/dual/a"));
  ASSERT_TRUE(run_until_responses(c6, 1));
  EXPECT_EQ(responses(conn(c6).in)[0].status, 200);
  uint32_t c4 = open(get("/dual/b"));
  ASSERT_TRUE(run_until_responses(c4, 1));
  EXPECT_EQ(responses(conn(c4).in)[0].status, 200);
  int v6 = 0, v4 = 0;
  for (int i = 1; i <= 3; ++i)
    for (const auto& [k, pc] : p(i).conns) {
      if (!pc.requests) continue;
      (pc.family == 6 ? v6 : v4)++;
      EXPECT_TRUE(pc.peer == (pc.family == 6 ? snat_ip6 : snat_ip));
    }
  EXPECT_EQ(v6, 1);
  EXPECT_EQ(v4, 1);
}

// Endpoints of the other family serve when the Service has none of the
// client's; without an SNAT address of a family its endpoints are not used.
TEST_F(ProxyTest, OtherFamilyWhenTheServiceHasNoneOfTheClients) {
  start();
  uint32_t a = open6(get("/one/a"));  // one: pod1 by IPv4 only
  ASSERT_TRUE(run_until_responses(a, 1));
  EXPECT_EQ(responses(conn(a).in)[0].status, 200);
  EXPECT_EQ(last_conn(*this, 1).family, 4);
  uint32_t b = open(get("/six/b"));  // six: IPv6 only
  ASSERT_TRUE(run_until_responses(b, 1));
  EXPECT_EQ(responses(conn(b).in)[0].status, 200);
  pw.source_v6 = ip_addr{};
  uint32_t d = open(get("/six/c"));
  ASSERT_TRUE(run_until_responses(d, 1));
  EXPECT_EQ(responses(conn(d).in, true)[0].status, 503);
  EXPECT_EQ(errors(http_reason::no_endpoint), 1u);
}

}  // namespace
}  // namespace kgw::proxy::test
