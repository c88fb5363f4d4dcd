// What the running NetworkPolicy rules were compiled from, for `kgw cli show
// policy`: each policy by name with its policyTypes and the Pods it selects,
// and the Pods isolated per direction. Control writes it into the same block
// of shared memory as the rule list (pipelines/policy/policy_rule_list.h),
// right after the rules, so the rules the dataplane classifies with and
// their description are published, swapped and freed as one; the
// dataplane's main lcore adds how long the classifier took to build.
// Plain data, offsets instead of pointers: another process reads it.
//
// Layout, from the catalog's start:
//   policy_catalog
//   policy_catalog_entry[n_policies]   (sorted by namespace/name, as the rules' policy indexes)
//   uint32_t pod_refs[n_pod_refs]      (each entry's selected Pods: offsets into the names)
//   char names[names_bytes]            (NUL-terminated "namespace/name" strings)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pipelines/policy/policy_hits.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

inline constexpr uint64_t policy_catalog_magic = 0x6b67772d706f6c63ull;  // "kgw-polc"

struct policy_catalog_entry {
  uint32_t name;       // offset into names
  uint8_t ingress;     // policyTypes holds Ingress
  uint8_t egress;      //   and Egress
  uint16_t pad;
  uint32_t first_pod;  // index into pod_refs
  uint32_t n_pods;     // Pods (with an address) the policy's podSelector selects
};

struct policy_catalog {
  uint64_t magic = policy_catalog_magic;
  uint32_t n_policies = 0;
  uint32_t n_pod_refs = 0;
  uint32_t names_bytes = 0;
  uint32_t n_pods = 0;            // Pods with an address, selected or not
  uint32_t isolated_ingress = 0;  // Pods some policy isolates for ingress
  uint32_t isolated_egress = 0;   //   for egress
  uint64_t build_ns = 0;          // the classifier's build time, written (atomically) by the main lcore before it
                                  // runs it; 0: not built
  // The workers' counts (pipelines/policy/policy_hits.h: [hit_workers][n_policies], in shared memory, freed with
  // the list), written by the main lcore with build_ns; 0: none.
  uint64_t hits = 0;
  uint32_t hit_workers = 0;
  uint32_t pad = 0;

  policy_catalog_entry* entries() { return reinterpret_cast<policy_catalog_entry*>(this + 1); }
  const policy_catalog_entry* entries() const { return reinterpret_cast<const policy_catalog_entry*>(this + 1); }
  uint32_t* pod_refs() { return reinterpret_cast<uint32_t*>(entries() + n_policies); }
  const uint32_t* pod_refs() const { return reinterpret_cast<const uint32_t*>(entries() + n_policies); }
  char* names() { return reinterpret_cast<char*>(pod_refs() + n_pod_refs); }
  const char* names() const { return reinterpret_cast<const char*>(pod_refs() + n_pod_refs); }
};
static_assert(sizeof(policy_catalog) % alignof(policy_catalog_entry) == 0);

inline constexpr size_t policy_catalog_bytes(uint32_t n_policies, uint32_t n_pod_refs, uint32_t names_bytes) {
  return sizeof(policy_catalog) + size_t{n_policies} * sizeof(policy_catalog_entry) + size_t{n_pod_refs} * 4 +
         names_bytes;
}

// Checks a catalog read from `bytes` of memory before it is trusted: its
// parts fit, every index and offset lies inside, and the names end with a NUL.
inline bool policy_catalog_valid(const policy_catalog& c, size_t bytes) {
  if (bytes < sizeof(policy_catalog) || c.magic != policy_catalog_magic || c.n_policies > (1u << 24) ||
      c.n_pod_refs > (1u << 28) || c.names_bytes > (1u << 30) ||
      bytes < policy_catalog_bytes(c.n_policies, c.n_pod_refs, c.names_bytes))
    return false;
  if (c.names_bytes == 0) return c.n_policies == 0 && c.n_pod_refs == 0;
  if (c.names()[c.names_bytes - 1] != '\0') return false;
  for (uint32_t i = 0; i < c.n_policies; ++i) {
    const policy_catalog_entry& e = c.entries()[i];
    if (e.name >= c.names_bytes || e.first_pod > c.n_pod_refs || e.n_pods > c.n_pod_refs - e.first_pod) return false;
  }
  for (uint32_t i = 0; i < c.n_pod_refs; ++i)
    if (c.pod_refs()[i] >= c.names_bytes) return false;
  return true;
}

// The catalog that follows `l`'s rules in its block of `block_bytes`, or
// nullptr when the block holds none (or none that is valid).
inline const policy_catalog* policy_catalog_of(const policy_rule_list& l, size_t block_bytes) {
  const size_t at = policy_rule_list_bytes(l.n_rules);
  if (block_bytes < at + sizeof(policy_catalog)) return nullptr;
  const auto* c = reinterpret_cast<const policy_catalog*>(reinterpret_cast<const char*>(&l) + at);
  return policy_catalog_valid(*c, block_bytes - at) ? c : nullptr;
}
inline policy_catalog* policy_catalog_of(policy_rule_list& l, size_t block_bytes) {
  return const_cast<policy_catalog*>(policy_catalog_of(static_cast<const policy_rule_list&>(l), block_bytes));
}
static_assert(policy_rule_list_bytes(0) % alignof(policy_catalog) == 0 &&
              sizeof(policy_acl_rule) % alignof(policy_catalog) == 0);

// The workers' counts of each policy of the running list `c` describes,
// summed over the workers (empty: not counted). Read where the list is
// (shared memory): the counts are freed with it, a grace period and two
// seconds after it is replaced.
inline std::vector<policy_hits> sum_policy_hits(const policy_catalog& c) {
  const auto* rows = reinterpret_cast<const policy_hits*>(__atomic_load_n(&c.hits, __ATOMIC_ACQUIRE));
  if (!rows || !c.hit_workers) return {};
  std::vector<policy_hits> out(c.n_policies);
  for (uint32_t w = 0; w < c.hit_workers; ++w)
    for (uint32_t i = 0; i < c.n_policies; ++i) {
      const policy_hits& h = rows[size_t{w} * c.n_policies + i];
      out[i].allowed_ingress += h.allowed_ingress;
      out[i].allowed_egress += h.allowed_egress;
      out[i].denied_ingress += h.denied_ingress;
      out[i].denied_egress += h.denied_egress;
    }
  return out;
}

}  // namespace kgw
