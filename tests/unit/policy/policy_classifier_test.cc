// The rte_acl classifier over hand-written rules: each category, prefixes,
// protocols and port ranges, IPv4 and IPv6, which policy is named, and
// bursts longer than one rte_acl_classify call.
#include <gtest/gtest.h>

#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/policy/policy_classifier.h"

namespace kgw {
namespace {

policy_acl_rule rule(policy_category cat, const char* src, const char* dst, uint8_t proto, uint16_t lo, uint16_t hi,
                     uint32_t policy) {
  policy_acl_rule r{};
  auto s = *parse_prefix(src), d = *parse_prefix(dst);
  r.family = s.addr.family;
  r.category = cat;
  r.proto = proto;
  std::copy(s.addr.b.begin(), s.addr.b.end(), r.src);
  std::copy(d.addr.b.begin(), d.addr.b.end(), r.dst);
  r.src_len = s.len;
  r.dst_len = d.len;
  r.port_lo = lo;
  r.port_hi = hi;
  r.policy = policy;
  return r;
}

policy_flow flow(const char* src, const char* dst, uint8_t proto, uint16_t port) {
  auto s = *parse_ip(src), d = *parse_ip(dst);
  policy_flow f{s.family, proto, port, {}, {}};
  std::copy(s.b.begin(), s.b.end(), f.src);
  std::copy(d.b.begin(), d.b.end(), f.dst);
  return f;
}

policy_verdict classify(const policy_classifier& c, const policy_flow& f) {
  policy_verdict v;
  c.classify(&f, 1, &v);
  return v;
}

// Pod 198.18.0.2 isolated for ingress by policy 3, which allows TCP 80-81 from
// 198.18.1.0/24; policy 5 allows UDP 53 from anywhere. 198.18.0.1 isolated for
// egress by policy 1, allowed to 198.18.0.0/24 on any protocol and port.
std::vector<policy_acl_rule> v4_rules() {
  return {rule(policy_ingress_isolated, "0.0.0.0/0", "198.18.0.2/32", policy_any_proto, 0, 65535, 3),
          rule(policy_ingress_isolated, "0.0.0.0/0", "198.18.0.2/32", policy_any_proto, 0, 65535, 5),
          rule(policy_ingress_allow, "198.18.1.0/24", "198.18.0.2/32", 6, 80, 81, 3),
          rule(policy_ingress_allow, "0.0.0.0/0", "198.18.0.2/32", 17, 53, 53, 5),
          rule(policy_egress_isolated, "198.18.0.1/32", "0.0.0.0/0", policy_any_proto, 0, 65535, 1),
          rule(policy_egress_allow, "198.18.0.1/32", "198.18.0.0/24", policy_any_proto, 0, 65535, 1)};
}

TEST(PolicyClassifier, IngressChecks) {
  auto rules = v4_rules();
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  EXPECT_EQ(c.rules(4), rules.size());
  EXPECT_EQ(c.rules(6), 0u);

  auto v = classify(c, flow("198.18.1.7", "198.18.0.2", 6, 81));
  EXPECT_TRUE(v.allow);
  EXPECT_EQ(v.ingress_isolated, 3u);  // the lower index of the two isolating policies
  EXPECT_EQ(v.ingress_allow, 3u);
  EXPECT_EQ(v.egress_isolated, policy_none);
  EXPECT_FALSE(classify(c, flow("198.18.1.7", "198.18.0.2", 6, 82)).allow);
  EXPECT_FALSE(classify(c, flow("198.18.1.7", "198.18.0.2", 6, 79)).allow);
  EXPECT_FALSE(classify(c, flow("198.18.2.7", "198.18.0.2", 6, 80)).allow);
  EXPECT_FALSE(classify(c, flow("198.18.1.7", "198.18.0.2", 17, 80)).allow);
  v = classify(c, flow("203.0.113.9", "198.18.0.2", 17, 53));
  EXPECT_TRUE(v.allow);
  EXPECT_EQ(v.ingress_allow, 5u);
  // Not isolated: anything goes.
  EXPECT_TRUE(classify(c, flow("198.18.2.7", "198.18.0.3", 132, 9)).allow);
}

TEST(PolicyClassifier, EgressAndBothChecks) {
  auto rules = v4_rules();
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  EXPECT_TRUE(classify(c, flow("198.18.0.1", "198.18.0.9", 132, 7)).allow);
  auto v = classify(c, flow("198.18.0.1", "198.18.1.9", 6, 80));
  EXPECT_FALSE(v.allow);
  EXPECT_EQ(v.egress_isolated, 1u);
  EXPECT_EQ(v.egress_allow, policy_none);
  // Egress allows it, the destination's ingress does not.
  v = classify(c, flow("198.18.0.1", "198.18.0.2", 6, 80));
  EXPECT_EQ(v.egress_allow, 1u);
  EXPECT_FALSE(v.allow);
  EXPECT_TRUE(classify(c, flow("198.18.0.1", "198.18.0.2", 17, 53)).allow);
  // A Pod reaching itself.
  EXPECT_TRUE(classify(c, flow("198.18.0.2", "198.18.0.2", 6, 9)).allow);
}

TEST(PolicyClassifier, Ipv6AndMixedBursts) {
  auto rules = v4_rules();
  rules.push_back(rule(policy_ingress_isolated, "::/0", "2001:db8::2/128", policy_any_proto, 0, 65535, 0));
  rules.push_back(rule(policy_ingress_allow, "2001:db8:0:1::/64", "2001:db8::2/128", 6, 8080, 8080, 0));
  rules.push_back(rule(policy_ingress_allow, "2001:db8:ff00::/40", "2001:db8::2/128", 132, 1000, 2000, 0));
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  EXPECT_EQ(c.rules(6), 3u);

  // 200 flows, alternating families, with known answers: more than three chunks.
  std::vector<policy_flow> flows;
  std::vector<bool> want;
  for (int i = 0; i < 200; ++i) {
    switch (i % 5) {
      case 0: flows.push_back(flow("2001:db8:0:1::5", "2001:db8::2", 6, 8080)); want.push_back(true); break;
      case 1: flows.push_back(flow("2001:db8:0:2::5", "2001:db8::2", 6, 8080)); want.push_back(false); break;
      case 2: flows.push_back(flow("2001:db8:ff12::1", "2001:db8::2", 132, uint16_t(1000 + i))); want.push_back(true); break;
      case 3: flows.push_back(flow("198.18.1.1", "198.18.0.2", 6, 80)); want.push_back(true); break;
      default: flows.push_back(flow("198.18.9.1", "198.18.0.2", 6, 80)); want.push_back(false); break;
    }
  }
  std::vector<policy_verdict> out(flows.size());
  c.classify(flows.data(), uint32_t(flows.size()), out.data());
  for (size_t i = 0; i < flows.size(); ++i) EXPECT_EQ(out[i].allow, want[i]) << "flow " << i;
  EXPECT_FALSE(classify(c, flow("2001:db8:ff12::1", "2001:db8::2", 132, 2001)).allow);
}

TEST(PolicyClassifier, NoRulesAllowsEverything) {
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(nullptr, 0, why)) << why;
  EXPECT_TRUE(classify(c, flow("198.18.0.1", "198.18.0.2", 6, 80)).allow);
  EXPECT_TRUE(classify(c, flow("2001:db8::1", "2001:db8::2", 17, 53)).allow);
}

}  // namespace
}  // namespace kgw
