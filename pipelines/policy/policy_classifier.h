// NetworkPolicy verdicts for new flows: two rte_acl contexts (IPv4 and IPv6
// field layouts) built from the compiled rules (policy_rules.h), four
// categories each, so that one rte_acl_classify call per family answers every
// check of a burst of flows.
//
// rte_acl keeps function pointers in its context, so a classifier is built in
// the process that classifies (the primary, from the rules control computed;
// `kgw policy-check` offline), after rte_eal_init: its memory comes from
// rte_zmalloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "pipelines/policy/policy_flow.h"
#include "pipelines/policy/policy_rules.h"

struct rte_acl_ctx;

namespace kgw {

struct acl_ctx_free {
  void operator()(rte_acl_ctx* c) const;
};
using acl_ctx_ptr = std::unique_ptr<rte_acl_ctx, acl_ctx_free>;

// Flows per rte_acl_classify call; longer bursts are classified in chunks.
inline constexpr uint32_t policy_classify_chunk = 64;

class policy_classifier {
 public:
  // Builds the contexts from `rules` (any order). False, and `why`, when
  // rte_acl refuses (no memory, a rule it cannot take). Slow path.
  bool build(const policy_acl_rule* rules, size_t n, std::string& why);

  // The verdict of each of the n flows. No allocation, no exceptions: what a
  // worker calls for the flows of a burst that have no connection entry.
  void classify(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  size_t rules(uint8_t family) const { return family == 6 ? n_v6_ : n_v4_; }

 private:
  void classify_chunk(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  acl_ctx_ptr v4_, v6_;  // null: no rule of that family
  size_t n_v4_ = 0, n_v6_ = 0;
};

}  // namespace kgw
