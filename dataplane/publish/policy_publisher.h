// The apply side of the NetworkPolicy rules: control hands over a
// policy_rule_list (plain data in shared memory); the main lcore builds the
// rte_acl classifier from it (it must be built in the process that
// classifies; as a recent layer over the running one's base and middle when
// few Pods' rules changed, policy_classifier.h), swaps it in whole, and frees
// the replaced one after the workers' grace period (rte_rcu_qsbr) and two
// seconds more for readers in other processes. A list it cannot build from
// leaves the running classifier in place. After a change, a new middle layer
// (and, when the layers grew, a new base) is built from a copy of the rules
// on a control thread (policy_base_rebuild.h) while changes go on as recent
// layers; the next list published after a middle finished is built over it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/publish/retired_tables.h"
#include "pipelines/policy/policy_base_rebuild.h"
#include "pipelines/policy/policy_table.h"

namespace kgw {

// The classifier over `l`; the table takes `l` over (freed with it). Built
// with `previous` (the running table): when few Pods' rules changed, only
// their rules are built, the rest shared (policy_classifier.h).
// nullptr with `error` when `l` is invalid or rte_acl refuses it: `l` is then
// still the caller's.
// A classifier built off the change path, and the names of its list's
// policies by index (to renumber its base's and middle's).
struct policy_fresh_base {
  std::unique_ptr<policy_classifier> classifier;
  std::vector<std::string> names;
};

// `fresh`: built over it rather than over `previous`. `uncapped`: a new base
// is on the way (policy_classifier::build).
policy_table* build_policy_table(const policy_rule_list* l, std::string& error,
                                 const policy_table* previous = nullptr, const policy_fresh_base* fresh = nullptr,
                                 bool uncapped = false);
void free_policy_table(policy_table* t);

class policy_publisher {
 public:
  policy_publisher() = default;
  ~policy_publisher();
  policy_publisher(const policy_publisher&) = delete;
  policy_publisher& operator=(const policy_publisher&) = delete;

  // `shared`: where control and the CLI find the list (shared_state::policy_rules).
  // `n_workers`: rows of per-policy counts made with each classifier.
  void init(rte_rcu_qsbr* qsbr, const policy_rule_list** shared, unsigned n_workers = 1) {
    qsbr_ = qsbr;
    shared_ = shared;
    n_workers_ = n_workers;
  }
  // Where the workers load the table once per burst.
  const policy_table* const* slot() const { return &current_; }
  // Takes `l` (a live block); false with `error` when it cannot be built
  // (`l` stays the caller's, the running classifier stays).
  bool apply(policy_rule_list* l, std::string& error);
  uint64_t generation() const { return generation_; }
  uint64_t build_failures() const { return build_failures_; }
  // Whether a middle or a base is being built off the change path (or a
  // finished base waits for a middle over it).
  bool rebuilding() const { return background_.running(); }
  bool folding() const { return background_.folding(); }
  bool rebasing() const { return background_.rebasing(); }
  // Whether a new base is built, for the next list's middle to be built over.
  bool rebased() const { return background_.base_finished(); }
  // Whether a middle is built, for the next list to take.
  bool rebuilt() const { return background_.fold_ready(); }
  // Frees what the workers and readers are done with; `all` at shutdown.
  void reclaim(bool all = false);
  // Frees everything, the running table too (the workers have stopped); before the EAL goes.
  void release();

 private:
  rte_rcu_qsbr* qsbr_ = nullptr;
  const policy_rule_list** shared_ = nullptr;
  policy_table* current_ = nullptr;
  unsigned n_workers_ = 1;
  uint64_t generation_ = 0;
  uint64_t build_failures_ = 0;
  retired_tables<policy_table, free_policy_table> retired_;
  policy_background_builds background_;
  std::vector<std::string> fold_names_;    // of the list the running middle build copied
  std::vector<std::string> rebase_names_;  // of the list the running base build copied
};

// NetworkPolicy rules that run from the dataplane's start (`kgw dataplane
// --manifests`, `kgw replay`), published before any worker runs.
using initial_policy_publish = std::function<bool(policy_publisher&, std::string& error)>;

}  // namespace kgw
