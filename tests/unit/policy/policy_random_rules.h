// Random NetworkPolicy rules and flows for the classifier's tests, and the
// rule-by-rule reference their verdicts are checked against
// (policy_delta_test.cc, policy_layers_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "pipelines/policy/policy_changed_pods.h"
#include "pipelines/policy/policy_classifier.h"

namespace kgw::policy_random {

inline constexpr uint32_t n_pods = 400;

inline uint8_t host_len(uint8_t family) { return family == 4 ? 32 : 128; }

// Pod p's address: 198.18.x.y or 2001:db8::x:y; clients n_pods and up.
inline void address(uint8_t family, uint32_t n, uint8_t* out) {
  std::fill(out, out + 16, 0);
  if (family == 4) {
    out[0] = 198, out[1] = 18, out[2] = uint8_t(n >> 8), out[3] = uint8_t(n);
    return;
  }
  out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
  out[14] = uint8_t(n >> 8), out[15] = uint8_t(n);
}

inline void mask_prefix(uint8_t* a, uint8_t len) {
  for (uint32_t bit = len; bit < 128; ++bit) a[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
}

// A random address among the Pods and a few clients.
inline void some_address(std::mt19937& rng, uint8_t family, uint8_t* out) { address(family, rng() % (n_pods + 64), out); }

// A peer prefix: a host, a /24-ish block or everything.
inline void some_prefix(std::mt19937& rng, uint8_t family, uint8_t* out, uint8_t& len) {
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
inline std::vector<policy_acl_rule> random_rules(std::mt19937& rng, uint32_t n) {
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

inline std::vector<policy_flow> random_flows(std::mt19937& rng, uint32_t n) {
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

inline bool prefix_match(const uint8_t* a, const uint8_t* p, uint8_t len) {
  if (std::memcmp(a, p, len / 8) != 0) return false;
  const uint8_t m = uint8_t(0xff00u >> (len % 8));
  return len % 8 == 0 || (a[len / 8] & m) == (p[len / 8] & m);
}

// Rule by rule: each category's lowest matching policy.
inline policy_verdict reference(const std::vector<policy_acl_rule>& rules, const policy_flow& f) {
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
inline void expect_reference(const policy_classifier& c, const std::vector<policy_acl_rule>& rules,
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

// A random Pod's rules (of IPv6 every third change): one dropped, one's port
// moved, one added. The family changed.
inline uint8_t change_a_pod(std::mt19937& rng, std::vector<policy_acl_rule>& rules, int change) {
  uint8_t family = change % 3 ? 4 : 6;
  uint8_t pod[16];
  address(family, rng() % n_pods, pod);
  std::vector<policy_acl_rule> next;
  bool dropped = false;
  for (auto r : rules) {
    const uint8_t* self = policy_rule_selected(r);
    if (self && r.family == family && std::memcmp(self, pod, family == 4 ? 4 : 16) == 0) {
      if (!dropped) {
        dropped = true;
        continue;
      }
      r.port_hi = uint16_t(r.port_hi + 1);
    }
    next.push_back(r);
  }
  auto extra = random_rules(rng, 1);
  extra[0].family = family;
  extra[0].category = policy_egress_allow;
  std::memcpy(extra[0].src, pod, 16);
  extra[0].src_len = host_len(family);
  next.push_back(extra[0]);
  rules = std::move(next);
  return family;
}

}  // namespace kgw::policy_random
