// NetworkPolicy verdicts for new flows: rte_acl contexts (IPv4 and IPv6 field
// layouts) built from the compiled rules (policy_rules.h), four categories
// each, so that one rte_acl_classify call answers every check of the flows it
// is given.
//
// Changes are incremental, in three layers per family, each an rte_acl
// context shared (shared ownership: a context is freed with the last
// classifier that holds it, after the workers moved past it) by the
// classifiers built over the one that built it:
//   base    every rule as of the last whole build;
//   middle  the rules of the Pods whose rules differed from the base's when it
//           was built (policy_changed_pods.h), and the wide rules; built off
//           the change path (policy_base_rebuild.h), like a new base;
//   recent  the rules now of the Pods whose rules differ from what base and
//           middle answer: those changed since the middle was built.
// A build with the running classifier as `previous` keeps its base and
// middle and builds only the recent layer: a policy change costs a build of
// the few Pods changed since the last middle (about a millisecond), not of
// the few hundred changed since the last base (10-20 ms, the cost of one
// delta over the base) nor of all of them. A flow takes each check
// (direction) from the newest layer that holds its Pod for that direction:
// recent, else middle, else base; flows of unchanged Pods are one
// rte_acl_classify call, as without layers, the others one more call per
// layer that answers them. After a change the main lcore folds the recent
// layer into a new middle in the background (a build over the base alone,
// `policy_build_layer::middle`), and past policy_delta_rebase_rules builds a
// new base whole on a second thread (policy_base_rebuild.h); the next change
// is built over the finished fold.
//
// A recent layer larger than policy_delta_max_rules (or half the rules) is
// folded into a middle on the change path instead, and a middle that large
// makes the build a whole one, unless the caller says a background build is
// on the way (`uncapped`): then the recent layer takes it all (never more
// than every rule: it costs at most what a whole build does).
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

// Rules in a layer past which the change path does not build it: a delta
// this size builds in about 10 ms (IPv4) to 20 ms (IPv6) (perf/README.md,
// "NetworkPolicy classifier"). A recent layer past it is folded into a
// middle, a middle past it is a whole build.
inline constexpr size_t policy_delta_max_rules = 512;
// Rules in the middle and recent layers together past which the background
// build is a new base rather than a middle: well before the cut, so that the
// new base is usually there before a middle would reach it.
inline constexpr size_t policy_delta_rebase_rules = policy_delta_max_rules / 4;

// One context and the rules it was built from, sorted by the Pod they select
// (so that a new list is compared with them Pod by Pod).
struct policy_acl_context {
  acl_ctx_ptr ctx;  // null: no rule
  std::vector<policy_acl_rule> rules;
  uint32_t policies = 0;  // past the highest policy index its rules name
  // A delta's (middle, recent): the Pods and directions whose checks it
  // answers. Empty in a base.
  policy_changed_pods pods;
};

// The layer a build over `previous` makes.
enum class policy_build_layer : uint8_t {
  recent,  // keeps previous's base and middle; builds what differs from them
  middle,  // keeps previous's base; builds what differs from it (no recent layer)
};

// What a build did, per family.
struct policy_build_stats {
  bool whole = false;       // the base was built (else shared with the previous classifier)
  bool middle = false;      // a middle layer was built (else, if not whole, the recent one)
  uint32_t changed_pods = 0;  // Pods (and directions) in the layer built
  size_t rules_built = 0;   // rules in the context built: the base's, or the layer's
};

class policy_classifier {
 public:
  // Builds the contexts from `rules` (any order), sharing `previous`'s base
  // (and middle) when the rules differ from them in a few Pods only.
  // `renumbered` (with `previous`), when policies were added or removed: the
  // index in `rules` of each policy of previous's rules (policy_none: gone);
  // the others keep their order (namespace/name), so the shared layers'
  // answers stay right once renamed. nullptr: the same indices. False, and
  // `why`, when rte_acl refuses (no memory, a rule it cannot take); this
  // classifier is then unchanged. `uncapped`: a background build is on the
  // way, so a layer's size alone does not make it fold or the build whole.
  // `layer`: what is built over `previous` (the change path builds the
  // recent layer; the background the middle). Slow path.
  bool build(const policy_acl_rule* rules, size_t n, std::string& why, const policy_classifier* previous = nullptr,
             const std::vector<uint32_t>* renumbered = nullptr, bool uncapped = false,
             policy_build_layer layer = policy_build_layer::recent);

  // The verdict of each of the n flows. No allocation, no exceptions: what a
  // worker calls for the flows of a burst that have no connection entry.
  void classify(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  size_t rules(uint8_t family) const { return of(family).n_rules; }
  const policy_build_stats& build_stats(uint8_t family) const { return of(family).stats; }
  // Rules in the family's middle and recent layers (0: none).
  size_t middle_rules(uint8_t family) const { return of(family).middle.rules(); }
  size_t recent_rules(uint8_t family) const { return of(family).recent.rules(); }
  size_t delta_rules(uint8_t family) const { return middle_rules(family) + recent_rules(family); }
  // Pods (and directions) in the family's recent layer: changed since the middle.
  uint32_t recent_pods(uint8_t family) const { return of(family).recent.pods(); }

 private:
  struct layer {
    std::shared_ptr<const policy_acl_context> acl;  // null: no layer
    const rte_acl_ctx* ctx = nullptr;
    // acl's policy indices in this classifier's rules (empty: the same).
    std::vector<uint32_t> policy;

    size_t rules() const { return acl ? acl->rules.size() : 0; }
    uint32_t pods() const { return acl ? acl->pods.size() : 0; }
    policy_changed_pods::finder find() const { return acl ? acl->pods.find() : policy_changed_pods::finder{}; }
  };
  struct family_acl {
    layer base, middle, recent;
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
                           bool uncapped, policy_build_layer layer);
  void classify_chunk(const policy_flow* flows, uint32_t n, policy_verdict* out) const;

  family_acl v4_, v6_;
};

}  // namespace kgw
