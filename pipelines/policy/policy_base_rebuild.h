// NetworkPolicy classifiers built off the change path (policy_classifier.h):
// policy_base_rebuild is one build on a thread of its own (an EAL control
// thread: on the cores no lcore runs on, else the main lcore's), from a copy of the
// rules:
//   a middle  over a classifier's base (what changed since it: the middle
//             and recent layers folded into one; 10-20 ms at a few hundred
//             rules), a fold;
//   a base    all rules, whole (0.6-1 s at 10,000 rules);
// builds that would otherwise hold up a change. policy_background_builds
// keeps one of each going after the changes the main lcore publishes.
// Meanwhile changes keep being built as recent layers over the running
// classifier, uncapped (policy_classifier::build); the next build after a
// fold finished takes its classifier as `previous`: its base and middle, and
// a recent layer of what changed since the copy. The threads touch nothing
// the workers read (the running classifier's contexts are shared,
// read-only): what they build is seen by no one until the main lcore builds
// over it.
//
// start, take and stop are the main lcore's (not thread-safe among
// themselves); each thread and they share an atomic flag.
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

  enum class kind : uint8_t { none, middle, base };

  // A build started and not yet taken: builds meanwhile may be uncapped.
  bool running() const { return started_; }
  // What the running build makes (none: none runs).
  kind building() const { return started_ ? building_ : kind::none; }
  // A build finished (built or failed) and not yet taken.
  bool ready() const { return started_ && job_->done.load(std::memory_order_acquire); }

  // Starts building a classifier from `rules` on a control thread: whole,
  // or over `over`'s base (a copy of it is taken: `over`, the running
  // classifier, may go meanwhile), its middle layer holding what differs
  // from it; `renumbered`: over's policies' indices in `rules`, when they
  // moved (policy_classifier::build). False, and `why`, when one runs
  // already or the thread cannot be made.
  bool start(std::vector<policy_acl_rule> rules, std::string& why, const policy_classifier* over = nullptr,
             const std::vector<uint32_t>* renumbered = nullptr);

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
    std::vector<uint32_t> renumbered;         // empty: over's indices are the rules'

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

// The two builds the main lcore keeps going off the change path: folds (a
// middle over the newest base, after each change that left Pods in the
// recent layer: tens of ms) and new bases (past policy_delta_rebase_rules in
// the middle and recent layers: most of a second). Folds go on while a base
// is built, so that the recent layer holds the few Pods changed since the
// last fold whatever the base costs; a finished base is not built over by a
// change but by the next fold (its middle: what changed since the base's
// copy), which changes then are built over. Main lcore only.
class policy_background_builds {
 public:
  // What after_publish started.
  struct started {
    bool fold = false, base = false;
  };

  // A finished fold, for the next change to be built over (policy_classifier
  // ::build's `previous`); nullptr while none is, or with `why` when it failed.
  std::unique_ptr<policy_classifier> take(std::string& why);
  // Whether a fold is finished (built or failed).
  bool fold_ready() const { return fold_.ready(); }
  bool folding() const { return fold_.running(); }
  bool rebasing() const { return rebase_.running() && !rebase_.ready(); }
  // A new base finished (or failed), waiting for a fold over it.
  bool base_finished() const { return base_ || rebase_.ready(); }
  // Anything under way: builds meanwhile may be uncapped.
  bool running() const { return fold_.running() || rebase_.running() || base_; }

  // After `running`, built from `rules`, was published: a fold over a
  // finished base (`base_renumbered`: its policies' indices in `rules`, when
  // they moved) or over running's base when its recent layer holds a Pod;
  // a new base when the layers grew. `why`: a failure to start, or a failed
  // base build.
  started after_publish(const policy_classifier& running, const policy_acl_rule* rules, size_t n,
                        const std::vector<uint32_t>* base_renumbered, std::string& why);
  // Waits for the threads and drops what they built.
  void stop();

 private:
  policy_base_rebuild fold_, rebase_;
  std::unique_ptr<policy_classifier> base_;  // a finished base, for the next fold
  bool folding_base_ = false;                // the running fold is over a new base
};

}  // namespace kgw
