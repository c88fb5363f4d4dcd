// The compiled NetworkPolicy rules as control publishes them: one block of
// shared memory, a header and n_rules policy_acl_rules after it (plain data,
// no pointers). The dataplane's main lcore builds the workers' classifier
// from it in its own process (rte_acl keeps function pointers); control
// compares it with what it would publish next.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pipelines/policy/policy_rules.h"

namespace kgw {

inline constexpr uint64_t policy_rule_list_magic = 0x6b67772d706f6c69ull;  // "kgw-poli"
inline constexpr uint32_t max_policy_rules = 1u << 20;

struct policy_rule_list {
  uint64_t magic = policy_rule_list_magic;
  uint64_t generation = 0;  // set by the dataplane when it takes the list
  uint32_t n_rules = 0;
  uint32_t n_policies = 0;  // NetworkPolicies the rules came from

  policy_acl_rule* rules() { return reinterpret_cast<policy_acl_rule*>(this + 1); }
  const policy_acl_rule* rules() const { return reinterpret_cast<const policy_acl_rule*>(this + 1); }
};
static_assert(sizeof(policy_rule_list) % alignof(policy_acl_rule) == 0);

inline constexpr size_t policy_rule_list_bytes(uint32_t n) {
  return sizeof(policy_rule_list) + size_t{n} * sizeof(policy_acl_rule);
}

// Checks what the dataplane is about to trust: the header, that `bytes` (the
// block's size) holds every rule, and each rule's family, category and
// prefix lengths.
inline bool policy_rule_list_valid(const policy_rule_list& l, size_t bytes) {
  if (l.magic != policy_rule_list_magic || l.n_rules > max_policy_rules || bytes < policy_rule_list_bytes(l.n_rules))
    return false;
  for (uint32_t i = 0; i < l.n_rules; ++i) {
    const policy_acl_rule& r = l.rules()[i];
    const uint8_t max_len = r.family == 4 ? 32 : 128;
    if ((r.family != 4 && r.family != 6) || r.category >= policy_categories || r.src_len > max_len ||
        r.dst_len > max_len || r.port_lo > r.port_hi)
      return false;
  }
  return true;
}

}  // namespace kgw
