// The endpoint table alone: entries by address and port, found again,
// recycled only when nothing refers to them, ejections and their horizon.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipelines/l7/proxy/endpoints.h"

namespace kgw::proxy::test {
namespace {

ip_addr v4(int i) { return *parse_ip("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)); }

struct table {
  std::vector<uint64_t> mem;
  endpoint_table t;
  explicit table(uint32_t cap) : mem((endpoint_table_bytes(cap) + 7) / 8) { endpoint_init(t, mem.data(), cap); }
};

TEST(proxy_endpoints, made_once_found_again) {
  table x(8);
  uint32_t a = endpoint_get(x.t, v4(1), 8080, 0);
  uint32_t b = endpoint_get(x.t, v4(1), 8081, 0);
  uint32_t c = endpoint_get(x.t, *parse_ip("2001:db8::1"), 8080, 0);
  ASSERT_NE(a, no_endpoint);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(endpoint_get(x.t, v4(1), 8080, 0), a);
  EXPECT_EQ(endpoint_find(x.t, v4(1), 8081), b);
  EXPECT_EQ(endpoint_find(x.t, v4(2), 8080), no_endpoint);
  EXPECT_EQ(x.t.used, 3u);
}

TEST(proxy_endpoints, full_table_recycles_what_nothing_refers_to) {
  table x(4);
  std::vector<uint32_t> e;
  for (int i = 0; i < 4; ++i) e.push_back(endpoint_get(x.t, v4(i), 80, 100));
  x.t.entries[e[0]].refs = 1;        // a connection in use
  x.t.entries[e[1]].n_idle = 1;      // a pooled connection
  endpoint_eject(x.t, e[2], 200);    // ejected until 200
  // e[3] is free to go: the fifth endpoint takes its place.
  uint32_t f = endpoint_get(x.t, v4(9), 80, 100);
  EXPECT_EQ(f, e[3]);
  x.t.entries[f].refs = 1;
  EXPECT_EQ(endpoint_find(x.t, v4(3), 80), no_endpoint);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(endpoint_find(x.t, v4(i), 80), e[i]) << i;
  // Nothing else can go: full.
  EXPECT_EQ(endpoint_get(x.t, v4(10), 80, 100), no_endpoint);
  // Once the ejection has run out, that entry can be taken.
  EXPECT_EQ(endpoint_get(x.t, v4(10), 80, 200), e[2]);
}

TEST(proxy_endpoints, ejection_and_horizon) {
  table x(8);
  uint32_t a = endpoint_get(x.t, v4(1), 80, 0);
  EXPECT_FALSE(endpoint_any_ejected(x.t, 0));
  endpoint_eject(x.t, a, 1000);
  EXPECT_TRUE(endpoint_ejected(x.t, a, 999));
  EXPECT_FALSE(endpoint_ejected(x.t, a, 1000));
  EXPECT_TRUE(endpoint_any_ejected(x.t, 500));
  EXPECT_FALSE(endpoint_any_ejected(x.t, 1000));
  EXPECT_FALSE(endpoint_ejected(x.t, no_endpoint, 0));
}

TEST(proxy_endpoints, many) {
  table x(1024);
  for (int i = 0; i < 1024; ++i) {
    uint32_t e = endpoint_get(x.t, v4(i), 80, 0);
    ASSERT_EQ(e, endpoint_find(x.t, v4(i), 80));
  }
  for (int i = 0; i < 1024; ++i) EXPECT_NE(endpoint_find(x.t, v4(i), 80), no_endpoint);
  EXPECT_EQ(x.t.used, 1024u);
}

}  // namespace
}  // namespace kgw::proxy::test
