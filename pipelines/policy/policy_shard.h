// Which shard of the classifier a rule and a flow's check belong to.
//
// Every compiled rule is about one selected Pod: an ingress rule (allow or
// isolated) matches on the destination, which is that Pod's address (a host
// prefix); an egress rule on the source. So the rules are split by that
// address's hash into a power-of-two number of shards, each its own rte_acl
// context: a policy change rebuilds only the shards whose rules changed. A
// flow's ingress checks are answered by shard(destination), its egress checks
// by shard(source).
//
// A rule whose selected side is a wider prefix (not what control compiles,
// but a hand-written rule list may hold one) is "wide": it lives in one extra
// context that every flow is classified against too.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/policy/policy_rules.h"

namespace kgw {

inline constexpr uint32_t policy_max_shards = 256;
// Rules per shard the shard count aims at: a shard of a few hundred rules
// builds in a few milliseconds (perf/README.md, "NetworkPolicy classifier").
inline constexpr uint32_t policy_rules_per_shard = 512;

// The shard of an address (network order, `family`'s length) among
// `mask + 1` shards.
inline uint32_t policy_shard_of(uint8_t family, const uint8_t* addr, uint32_t mask) {
  uint64_t a = 0, b = 0;
  if (family == 4) {
    uint32_t w;
    std::memcpy(&w, addr, 4);
    a = w;
  } else {
    std::memcpy(&a, addr, 8);
    std::memcpy(&b, addr + 8, 8);
  }
  uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  return static_cast<uint32_t>(h >> 32) & mask;
}

inline bool policy_ingress_category(uint8_t category) {
  return category == policy_ingress_allow || category == policy_ingress_isolated;
}

// The address a rule selects (its Pod's), or nullptr for a wide rule.
inline const uint8_t* policy_rule_selected(const policy_acl_rule& r) {
  const uint8_t host = r.family == 4 ? 32 : 128;
  if (policy_ingress_category(r.category)) return r.dst_len == host ? r.dst : nullptr;
  return r.src_len == host ? r.src : nullptr;
}

// The shard count for `n` rules of a family: a power of two, about
// policy_rules_per_shard rules each. `previous` (the running count) is kept
// while it is within a factor of two of that, so that rules coming and going
// do not re-shard (a full rebuild) at every change.
inline uint32_t policy_shard_count(size_t n, uint32_t previous) {
  auto fits = [n](uint32_t s) {
    return n <= size_t{2} * policy_rules_per_shard * s && (s == 1 || n * 2 >= size_t{policy_rules_per_shard} * s);
  };
  if (previous && previous <= policy_max_shards && fits(previous)) return previous;
  uint32_t s = 1;
  while (s < policy_max_shards && n > size_t{policy_rules_per_shard} * s) s *= 2;
  return s;
}

}  // namespace kgw
