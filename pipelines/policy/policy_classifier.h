// NetworkPolicy verdicts for new flows: rte_acl contexts (IPv4 and IPv6 field
// layouts) built from the compiled rules (policy_rules.h), four categories
// each, so that one rte_acl_classify call answers every check of the flows it
// is given.
//
// Changes are incremental. Per family, a base context holds every rule as of
// the last whole build; a classifier built with the running one as `previous`
// shares that base (shared ownership: a context is freed with the last
// classifier that holds it, after the workers moved past it) and builds only a
// delta context from the rules of the Pods whose rules differ from the base's
// (policy_changed_pods.h): a policy change costs a build of that Pod's few
// rules, not of all of them. Flows to or from a changed Pod take those checks
// from the delta (a second rte_acl_classify call for them only); with no
// changed Pod classification is one call, as without deltas. When the delta
// grows past policy_delta_max_rules (or half the rules) the next build is a
// whole one again, unless the caller says a new base is on the way
// (`uncapped`): policy_base_rebuild.h builds one from a copy of the rules off
// the change path, and a build with that one as `previous` takes it as its base.
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
#include "pipelines/policy/policy_changed_pods.h"

struct rte_acl_ctx;

namespace kgw {

struct acl_ctx_free {
  void operator()(rte_acl_ctx* c) const;
};
using acl_ctx_ptr = std::unique_ptr<rte_acl_ctx, acl_ctx_free>;

// Flows per classify step; longer bursts are classified in chunks.
inline constexpr uint32_t policy_classify_chunk = 64;

// Rules in a delta past which a build is a whole one: a delta this size
// builds in about 10 ms (IPv4) to 20 ms (IPv6) (perf/README.md, "NetworkPolicy classifier").
inline constexpr size_t policy_delta_max_rules = 512;
// Rules in a delta past which a new base is built in the background
// (policy_base_rebuild.h): well before the cut, so that the new base is
// usually there before the delta would reach it.
inline constexpr size_t policy_delta_rebase_rules = policy_delta_max_rules / 4;

// One context and the rules it was built from, sorted by the Pod they select
// (so that a new list is compared with them Pod by Pod).
struct policy_acl_context {
  acl_ctx_ptr ctx;  // null: no rule
  std::vector<policy_acl_rule> rules;
  uint32_t policies = 0;  // past the highest policy index its rules name
};

// What a build did, per family.
struct policy_build_stats {
  bool whole = false;       // the base was built (else shared with the previous classifier)
  uint32_t changed_pods = 0;  // Pods (and directions) whose rules differ from the base's
  size_t rules_built = 0;   // rules in the contexts built: the base's, or the delta's
};

class policy_classifier {
 public:
  // Builds the contexts from `rules` (any order), sharing `previous`'s base
  // when the rules differ from it in a few Pods only. `renumbered` (with
  // `previous`), when policies were added or removed: the index in `rules` of
  // each policy of previous's rules (policy_none: gone); the others keep
  // their order (namespace/name), so the base's answers stay right once
  // renamed. nullptr: the same indices. False, and `why`, when rte_acl
  // refuses (no memory, a rule it cannot take); this classifier is then
  // unchanged. `uncapped`: a new base is being built, so the delta's size
  // alone does not make the build a whole one (a delta never holds more than
  // every rule: it costs at most what a whole build does). Slow path.
  bool build(const policy_acl_rule* rules, size_t n, std::string& why, const policy_classifier* previous = nullptr,
             const std::vector<uint32_t>* renumbered = nullptr, bool uncapped = false);

  // The verdict of each of the n flows. No allocation, no exceptions: what a
  // worker calls for the flows of a burst that have no connection entry.
  void classify(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  size_t rules(uint8_t family) const { return of(family).n_rules; }
  const policy_build_stats& build_stats(uint8_t family) const { return of(family).stats; }
  // Rules in the family's delta context (0: none).
  size_t delta_rules(uint8_t family) const { return of(family).delta ? of(family).delta->rules.size() : 0; }

 private:
  struct family_acl {
    std::shared_ptr<const policy_acl_context> base;   // every rule as of the last whole build
    std::shared_ptr<const policy_acl_context> delta;  // the changed Pods' rules now
    const rte_acl_ctx* base_ctx = nullptr;
    const rte_acl_ctx* delta_ctx = nullptr;
    policy_changed_pods changed;
    // The base's policy indices in this classifier's rules (empty: the same).
    std::vector<uint32_t> base_policy;
    size_t n_rules = 0;
    policy_build_stats stats;

    // results[i]: the four categories' userdata (0: no match) of flow i,
    // whose key is keys[i].
    void classify(const uint8_t* const* keys, const policy_flow* const* flows, uint32_t n,
                  uint32_t (*results)[policy_categories]) const;
  };

  const family_acl& of(uint8_t family) const { return family == 6 ? v6_ : v4_; }
  static bool build_family(family_acl& out, uint8_t family, const policy_acl_rule* rules, size_t n,
                           std::string& why, const family_acl* previous, const std::vector<uint32_t>* renumbered,
                           bool uncapped);
  void classify_chunk(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  family_acl v4_, v6_;
};

}  // namespace kgw
