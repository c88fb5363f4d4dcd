// NetworkPolicy verdicts for new flows: rte_acl contexts (IPv4 and IPv6 field
// layouts) built from the compiled rules (policy_rules.h), four categories
// each, so that one rte_acl_classify call answers every check of the flows it
// is given.
//
// Each family's rules are split into shards by the selected Pod's address
// (policy_shard.h), one context each, so that a change rebuilds only the
// shards whose rules changed: `build` with the running classifier as
// `previous` shares its contexts for the shards whose rules are the same
// (shared ownership: a context is freed with the last classifier that holds
// it, after the workers moved past it). A burst's flows are grouped by shard:
// one rte_acl_classify call per shard the burst uses.
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
#include <vector>

#include "pipelines/policy/policy_flow.h"
#include "pipelines/policy/policy_rules.h"
#include "pipelines/policy/policy_shard.h"

struct rte_acl_ctx;

namespace kgw {

struct acl_ctx_free {
  void operator()(rte_acl_ctx* c) const;
};
using acl_ctx_ptr = std::unique_ptr<rte_acl_ctx, acl_ctx_free>;

// Flows per classify step; longer bursts are classified in chunks.
inline constexpr uint32_t policy_classify_chunk = 64;

// One context and the rules it was built from (sorted), to tell whether a
// new rule list leaves the shard as it is.
struct policy_acl_shard {
  acl_ctx_ptr ctx;
  std::vector<policy_acl_rule> rules;
};

// What a build did, per family: shards made anew and shards shared with the
// previous classifier.
struct policy_build_stats {
  uint32_t built = 0;
  uint32_t reused = 0;
};

class policy_classifier {
 public:
  // Builds the contexts from `rules` (any order), sharing `previous`'s
  // contexts whose rules are unchanged. False, and `why`, when rte_acl
  // refuses (no memory, a rule it cannot take). Slow path.
  bool build(const policy_acl_rule* rules, size_t n, std::string& why, const policy_classifier* previous = nullptr);

  // The verdict of each of the n flows. No allocation, no exceptions: what a
  // worker calls for the flows of a burst that have no connection entry.
  void classify(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  size_t rules(uint8_t family) const { return of(family).n_rules; }
  uint32_t shards(uint8_t family) const { return of(family).mask + 1; }
  const policy_build_stats& build_stats(uint8_t family) const { return of(family).stats; }

 private:
  // One family's contexts. `ctx` mirrors `owned` as plain pointers for the
  // workers (null: a shard without rules).
  struct family_acl {
    uint32_t mask = 0;  // shards - 1
    std::vector<std::shared_ptr<const policy_acl_shard>> owned;
    std::vector<const rte_acl_ctx*> ctx;
    std::shared_ptr<const policy_acl_shard> wide;  // rules that select no single address
    size_t n_rules = 0;
    policy_build_stats stats;

    // results[i]: the four categories' userdata (0: no match) of flow i,
    // whose key is keys[i].
    void classify(const uint8_t* const* keys, const policy_flow* const* flows, uint32_t n,
                  uint32_t (*results)[policy_categories]) const;
  };

  const family_acl& of(uint8_t family) const { return family == 6 ? v6_ : v4_; }
  bool build_family(family_acl& out, uint8_t family, const policy_acl_rule* rules, size_t n, std::string& why,
                    const family_acl* previous);
  void classify_chunk(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  family_acl v4_, v6_;
};

}  // namespace kgw
