// A NetworkPolicy classifier built off the change path: its middle layer,
// or all of it (policy_classifier.h). After a change the main lcore hands a
// copy of the rules to a thread of its own (an EAL control thread: on the
// cores no lcore runs on), with the running classifier to build over:
//   a middle  over the running base (what changed since it: the recent and
//             middle layers folded into one; 10-20 ms at a few hundred rules)
//             when the layers hold few rules;
//   a base    all rules, whole (0.6-1 s at 10,000 rules), past
//             policy_delta_rebase_rules in them;
// builds that would otherwise hold up a change. Meanwhile changes keep being
// built as recent layers over the running classifier, uncapped
// (policy_classifier::build). The next build after the thread finished takes
// the finished classifier as `previous`: its base and middle, and a recent
// layer of what changed since the copy. The thread touches nothing the
// workers read (the running classifier's contexts are shared, read-only): its
// classifier is seen by no one until the main lcore builds over it.
//
// One build at a time; start, take and stop are the main lcore's (not
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

  // What to build in the background after `c` was built.
  enum class kind : uint8_t { none, middle, base };
  static kind wanted(const policy_classifier& c) {
    if (c.delta_rules(4) > policy_delta_rebase_rules || c.delta_rules(6) > policy_delta_rebase_rules)
      return kind::base;
    return c.recent_pods(4) || c.recent_pods(6) ? kind::middle : kind::none;
  }

  // A build started and not yet taken: builds meanwhile may be uncapped.
  bool running() const { return started_; }
  // What the running build makes (none: none runs).
  kind building() const { return started_ ? building_ : kind::none; }
  // A build finished (built or failed) and not yet taken.
  bool ready() const { return started_ && job_->done.load(std::memory_order_acquire); }

  // Starts building a classifier from `rules` on a control thread: whole,
  // or over `over`'s base (a copy of it is taken: `over`, the running
  // classifier, may go meanwhile), its middle layer holding what differs
  // from it. False, and `why`, when one runs already or the thread cannot be
  // made.
  bool start(std::vector<policy_acl_rule> rules, std::string& why, const policy_classifier* over = nullptr);
  // Starts what wanted(running) says, from `rules` (running's); false with
  // `why` as start, or when there is nothing to build.
  bool start_for(const policy_classifier& running, std::vector<policy_acl_rule> rules, std::string& why);

  // The finished classifier, built from the rules `start` took; nullptr while
  // the build runs or when none started. A failed build also ends the
  // build: nullptr with `why` set.
  std::unique_ptr<policy_classifier> take(std::string& why);

  // Waits for the thread and drops what it built: at shutdown, before the EAL goes.
  void stop();

 private:
  struct job {
    std::vector<policy_acl_rule> rules;
    std::unique_ptr<policy_classifier> over;  // null: a whole build
    std::unique_ptr<policy_classifier> built;
    std::string why;
    std::atomic<bool> done{false};
  };
  static void* run(void* arg);

  std::unique_ptr<job> job_;
  pthread_t thread_{};
  bool started_ = false;
  kind building_ = kind::none;
};

}  // namespace kgw
