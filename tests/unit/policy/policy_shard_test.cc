// The sharded classifier: against a rule-by-rule reference over random rules
// and flows (enough rules for several shards per family, with wide rules that
// select no single address), and what a rebuild with the running classifier
// as `previous` builds: only the shards whose rules changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pipelines/policy/policy_classifier.h"

namespace kgw {
namespace {

constexpr uint32_t n_pods = 400;

uint8_t host_len(uint8_t family) { return family == 4 ? 32 : 128; }

// Pod p's address: 198.18.x.y or 2001:db8::x:y; clients n_pods and up.
void address(uint8_t family, uint32_t n, uint8_t* out) {
  std::fill(out, out + 16, 0);
  if (family == 4) {
    out[0] = 198, out[1] = 18, out[2] = uint8_t(n >> 8), out[3] = uint8_t(n);
    return;
  }
  out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
  out[14] = uint8_t(n >> 8), out[15] = uint8_t(n);
}

void mask_prefix(uint8_t* a, uint8_t len) {
  for (uint32_t bit = len; bit < 128; ++bit) a[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
}

// A random address among the Pods and a few clients.
void some_address(std::mt19937& rng, uint8_t family, uint8_t* out) { address(family, rng() % (n_pods + 64), out); }

// A peer prefix: a host, a /24-ish block or everything.
void some_prefix(std::mt19937& rng, uint8_t family, uint8_t* out, uint8_t& len) {
  some_address(rng, family, out);
  const uint8_t host = host_len(family);
  switch (rng() % 4) {
    case 0: len = host; break;
    case 1: len = uint8_t(host - 8); break;
    case 2: len = uint8_t(host - 2); break;
    default: len = 0; break;
  }
  mask_prefix(out, len);
}

// Rules as control compiles them (the selected Pod a host prefix), and one
// in 50 wide (its selected side a prefix).
std::vector<policy_acl_rule> random_rules(std::mt19937& rng, uint32_t n) {
  std::vector<policy_acl_rule> rules;
  for (uint32_t i = 0; i < n; ++i) {
    policy_acl_rule r{};
    r.family = rng() % 4 ? 4 : 6;
    r.category = uint8_t(rng() % policy_categories);
    r.policy = rng() % 40;
    const uint8_t host = host_len(r.family);
    uint8_t* self = policy_ingress_category(r.category) ? r.dst : r.src;
    uint8_t& self_len = policy_ingress_category(r.category) ? r.dst_len : r.src_len;
    uint8_t* peer = policy_ingress_category(r.category) ? r.src : r.dst;
    uint8_t& peer_len = policy_ingress_category(r.category) ? r.src_len : r.dst_len;
    address(r.family, rng() % n_pods, self);
    self_len = host;
    if (rng() % 50 == 0) {
      self_len = uint8_t(host - 1 - rng() % 8);
      mask_prefix(self, self_len);
    }
    if (r.category == policy_ingress_isolated || r.category == policy_egress_isolated) {
      peer_len = 0;
      r.port_hi = 65535;
    } else {
      some_prefix(rng, r.family, peer, peer_len);
      static const uint8_t protos[] = {policy_any_proto, 6, 17, 132};
      r.proto = protos[rng() % 4];
      r.port_lo = uint16_t(rng() % 100);
      r.port_hi = uint16_t(r.port_lo + rng() % 5);
      if (r.proto == policy_any_proto) r.port_lo = 0, r.port_hi = 65535;
    }
    rules.push_back(r);
  }
  return rules;
}

std::vector<policy_flow> random_flows(std::mt19937& rng, uint32_t n) {
  std::vector<policy_flow> flows(n);
  for (auto& f : flows) {
    f.family = rng() % 4 ? 4 : 6;
    static const uint8_t protos[] = {6, 17, 132, 1};
    f.proto = protos[rng() % 4];
    f.dport = f.proto == 1 ? 0 : uint16_t(rng() % 105);
    some_address(rng, f.family, f.src);
    some_address(rng, f.family, f.dst);
  }
  return flows;
}

bool prefix_match(const uint8_t* a, const uint8_t* p, uint8_t len) {
  if (std::memcmp(a, p, len / 8) != 0) return false;
  const uint8_t m = uint8_t(0xff00u >> (len % 8));
  return len % 8 == 0 || (a[len / 8] & m) == (p[len / 8] & m);
}

// Rule by rule: each category's lowest matching policy.
policy_verdict reference(const std::vector<policy_acl_rule>& rules, const policy_flow& f) {
  uint32_t best[policy_categories] = {policy_none, policy_none, policy_none, policy_none};
  for (const auto& r : rules) {
    if (r.family != f.family || (r.proto != policy_any_proto && r.proto != f.proto) ||
        !prefix_match(f.src, r.src, r.src_len) || !prefix_match(f.dst, r.dst, r.dst_len) || f.dport < r.port_lo ||
        f.dport > r.port_hi)
      continue;
    best[r.category] = std::min(best[r.category], r.policy);
  }
  policy_verdict v{};
  v.egress_allow = best[policy_egress_allow];
  v.ingress_allow = best[policy_ingress_allow];
  v.egress_isolated = best[policy_egress_isolated];
  v.ingress_isolated = best[policy_ingress_isolated];
  const bool self = std::equal(f.src, f.src + (f.family == 4 ? 4 : 16), f.dst);
  v.allow = self || ((v.egress_isolated == policy_none || v.egress_allow != policy_none) &&
                     (v.ingress_isolated == policy_none || v.ingress_allow != policy_none));
  return v;
}

// `mixed`: the flows are many and varied, both verdicts must occur (they
// exercise the rules).
void expect_reference(const policy_classifier& c, const std::vector<policy_acl_rule>& rules,
                      const std::vector<policy_flow>& flows, bool mixed = true) {
  std::vector<policy_verdict> got(flows.size());
  c.classify(flows.data(), uint32_t(flows.size()), got.data());
  size_t allowed = 0, bad = 0;
  for (size_t i = 0; i < flows.size() && bad < 10; ++i) {
    const policy_verdict want = reference(rules, flows[i]);
    allowed += want.allow;
    const bool same = got[i].allow == want.allow && got[i].egress_allow == want.egress_allow &&
                      got[i].ingress_allow == want.ingress_allow &&
                      got[i].egress_isolated == want.egress_isolated &&
                      got[i].ingress_isolated == want.ingress_isolated;
    bad += !same;
    EXPECT_TRUE(same) << "flow " << i << " family " << int(flows[i].family) << ": allow " << got[i].allow
                      << " want " << want.allow << ", ingress allow/isolated " << got[i].ingress_allow << "/"
                      << got[i].ingress_isolated << " want " << want.ingress_allow << "/" << want.ingress_isolated
                      << ", egress " << got[i].egress_allow << "/" << got[i].egress_isolated << " want "
                      << want.egress_allow << "/" << want.egress_isolated;
  }
  if (!mixed) return;
  EXPECT_GT(allowed, flows.size() / 20);
  EXPECT_LT(allowed, flows.size() - flows.size() / 20);
}

TEST(PolicyShards, SameVerdictsAsRuleByRule) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    auto rules = random_rules(rng, 4000);
    policy_classifier c;
    std::string why;
    ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
    EXPECT_GE(c.shards(4), 4u);  // ~3,000 IPv4 rules
    EXPECT_GE(c.shards(6), 1u);
    // Bursts of every length up to past a chunk, as workers pass them.
    auto flows = random_flows(rng, 3000);
    expect_reference(c, rules, flows);
    for (uint32_t len : {1u, 2u, 7u, 32u, 63u, 64u, 65u}) {
      std::vector<policy_flow> part(flows.begin(), flows.begin() + len);
      expect_reference(c, rules, part, false);
    }
  }
}

TEST(PolicyShards, OneShardWhenFewRules) {
  std::mt19937 rng(4);
  auto rules = random_rules(rng, 300);
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  EXPECT_EQ(c.shards(4), 1u);
  EXPECT_EQ(c.shards(6), 1u);
  expect_reference(c, rules, random_flows(rng, 2000));
}

TEST(PolicyShards, ChangeRebuildsOnlyItsShard) {
  std::mt19937 rng(5);
  auto rules = random_rules(rng, 4000);
  auto c = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(c->build(rules.data(), rules.size(), why)) << why;
  const uint32_t shards4 = c->shards(4), shards6 = c->shards(6);
  ASSERT_GT(shards4, 1u);
  EXPECT_EQ(c->build_stats(4).reused, 0u);
  EXPECT_GT(c->build_stats(4).built, 1u);
  const uint32_t nonempty4 = c->build_stats(4).built, nonempty6 = c->build_stats(6).built;

  // The same rules in another order: nothing is built.
  auto shuffled = rules;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto same = std::make_unique<policy_classifier>();
  ASSERT_TRUE(same->build(shuffled.data(), shuffled.size(), why, c.get())) << why;
  EXPECT_EQ(same->build_stats(4).built, 0u);
  EXPECT_EQ(same->build_stats(4).reused, nonempty4);
  EXPECT_EQ(same->build_stats(6).built, 0u);
  EXPECT_EQ(same->build_stats(6).reused, nonempty6);

  // One Pod's ingress rule changes port: its shard alone is built; the new
  // classifier answers by the new rules, the old one by the old.
  auto changed = rules;
  const uint32_t pod = 7;
  policy_acl_rule r{};
  r.family = 4;
  r.category = policy_ingress_isolated;
  address(4, pod, r.dst);
  r.dst_len = 32;
  r.port_hi = 65535;
  changed.push_back(r);  // isolates Pod 7 (perhaps again)
  r.category = policy_ingress_allow;
  r.proto = 6;
  r.port_lo = r.port_hi = 4242;
  changed.push_back(r);
  auto next = std::make_unique<policy_classifier>();
  ASSERT_TRUE(next->build(changed.data(), changed.size(), why, c.get())) << why;
  EXPECT_EQ(next->shards(4), shards4);
  EXPECT_EQ(next->build_stats(4).built, 1u);
  EXPECT_EQ(next->build_stats(4).reused, nonempty4 - 1);
  EXPECT_EQ(next->build_stats(6).built, 0u);
  EXPECT_EQ(next->build_stats(6).reused, nonempty6);

  policy_flow f{4, 6, 4242, {198, 19, 5, 5}, {}};  // a client no rule selects
  address(4, pod, f.dst);
  policy_verdict v;
  next->classify(&f, 1, &v);
  EXPECT_TRUE(v.allow);
  EXPECT_EQ(v.allow, reference(changed, f).allow);
  c->classify(&f, 1, &v);
  EXPECT_EQ(v.allow, reference(rules, f).allow);

  // The old classifier goes (the workers moved on); the new one still holds
  // the contexts it shares with it.
  c.reset();
  same.reset();
  auto flows = random_flows(rng, 2000);
  flows.push_back(f);
  expect_reference(*next, changed, flows);

  // A change in an IPv6 Pod's rules builds one IPv6 shard and no IPv4 one.
  auto changed6 = changed;
  policy_acl_rule r6{};
  r6.family = 6;
  r6.category = policy_egress_isolated;
  address(6, 11, r6.src);
  r6.src_len = 128;
  r6.port_hi = 65535;
  changed6.push_back(r6);
  policy_classifier after6;
  ASSERT_TRUE(after6.build(changed6.data(), changed6.size(), why, next.get())) << why;
  EXPECT_EQ(after6.build_stats(4).built, 0u);
  EXPECT_EQ(after6.build_stats(6).built, 1u);
  EXPECT_EQ(after6.shards(6), shards6);
  expect_reference(after6, changed6, flows);
}

TEST(PolicyShards, ManyMoreRulesReshard) {
  std::mt19937 rng(6);
  auto rules = random_rules(rng, 1500);
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  auto more = random_rules(rng, 12000);
  policy_classifier next;
  ASSERT_TRUE(next.build(more.data(), more.size(), why, &c)) << why;
  EXPECT_GT(next.shards(4), c.shards(4));
  EXPECT_EQ(next.build_stats(4).reused, 0u);
  expect_reference(next, more, random_flows(rng, 2000));
}

}  // namespace
}  // namespace kgw
