// A whole NetworkPolicy classifier built off the change path. Past
// policy_delta_rebase_rules in a delta, the main lcore hands a copy of the
// rules to a thread of its own (an EAL control thread: on the cores no lcore
// runs on) that builds a classifier from them whole, the long build (0.6-1 s
// at 10,000 rules) that would otherwise hold up one change. Meanwhile changes
// keep being built as deltas over the running base, uncapped
// (policy_classifier::build). The next build after the thread finished takes
// the finished classifier as `previous`: its fresh base, and a delta of what
// changed since the copy, against it. The thread touches nothing the workers
// read: its classifier is seen by no one until the main lcore builds over it.
//
// One rebuild at a time; start, take and stop are the main lcore's (not
// thread-safe among themselves), the thread and they share an atomic flag.
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/policy/policy_classifier.h"

namespace kgw {

class policy_base_rebuild {
 public:
  policy_base_rebuild() = default;
  ~policy_base_rebuild() { stop(); }
  policy_base_rebuild(const policy_base_rebuild&) = delete;
  policy_base_rebuild& operator=(const policy_base_rebuild&) = delete;

  // Whether `c`'s delta is big enough to start building a new base.
  static bool wanted(const policy_classifier& c) {
    return c.delta_rules(4) > policy_delta_rebase_rules || c.delta_rules(6) > policy_delta_rebase_rules;
  }

  // A rebuild started and not yet taken: builds meanwhile may be uncapped.
  bool running() const { return started_; }
  // A rebuild finished (built or failed) and not yet taken.
  bool ready() const { return started_ && job_->done.load(std::memory_order_acquire); }

  // Starts building a classifier from `rules` on a control thread; false,
  // and `why`, when one runs already or the thread cannot be made.
  bool start(std::vector<policy_acl_rule> rules, std::string& why);

  // The finished classifier, built from the rules `start` took; nullptr while
  // the build runs or when none started. A failed build also ends the
  // rebuild: nullptr with `why` set.
  std::unique_ptr<policy_classifier> take(std::string& why);

  // Waits for the thread and drops what it built: at shutdown, before the EAL goes.
  void stop();

 private:
  struct job {
    std::vector<policy_acl_rule> rules;
    std::unique_ptr<policy_classifier> built;
    std::string why;
    std::atomic<bool> done{false};
  };
  static void* run(void* arg);

  std::unique_ptr<job> job_;
  pthread_t thread_{};
  bool started_ = false;
};

}  // namespace kgw
