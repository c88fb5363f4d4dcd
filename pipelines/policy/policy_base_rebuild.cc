#include "pipelines/policy/policy_base_rebuild.h"

#include <pthread.h>
#include <rte_lcore.h>

#include <cstring>

namespace kgw {

void* policy_base_rebuild::run(void* arg) {
  auto* j = static_cast<job*>(arg);
  // At the main lcore's priority, which it inherits (dataplane.control_priority):
  // an EAL control thread shares the main
  // lcore's core when every core is an lcore's, and below it (nice 19) it
  // starved there, and most likely stalled the main lcore's own builds while
  // holding the DPDK heap's spinlock (perf/README.md, "Three layers").
  auto c = std::make_unique<policy_classifier>();
  // A middle over `over`'s base, whatever its size: a whole build is the
  // other thread's (a new base), and the changes meanwhile wait for this one.
  if (c->build(j->rules.data(), j->rules.size(), j->why, j->over.get(), j->renumbered.empty() ? nullptr : &j->renumbered,
               j->over != nullptr, policy_build_layer::middle))
    j->built = std::move(c);
  j->over.reset();  // its contexts are shared: dropped here, not by the main lcore
  j->done.store(true, std::memory_order_release);
  return nullptr;
}

bool policy_base_rebuild::start(std::vector<policy_acl_rule> rules, std::string& why, const policy_classifier* over,
                                const std::vector<uint32_t>* renumbered) {
  if (started_) {
    why = "a background build runs already";
    return false;
  }
  job_ = std::make_unique<job>();
  job_->rules = std::move(rules);
  if (over) job_->over = std::make_unique<policy_classifier>(*over);
  if (over && renumbered) job_->renumbered = *renumbered;
  // Time-shared whatever the main lcore's policy: under `control_scheduler:
  // fifo` a build (long work) would hold the main lcore's CPU from everything
  // time-shared, and from the main lcore itself (the same real-time priority
  // gets no time slices). Its nice is still the main lcore's.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
  sched_param none{};
  pthread_attr_setschedparam(&attr, &none);
  int rc = rte_ctrl_thread_create(&thread_, "kgw-policy-base", &attr, run, job_.get());
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    why = std::string("cannot start the policy rebuild thread: ") + std::strerror(rc);
    job_.reset();
    return false;
  }
  started_ = true;
  building_ = over ? kind::middle : kind::base;
  return true;
}

std::unique_ptr<policy_classifier> policy_base_rebuild::take(std::string& why) {
  if (!ready()) return nullptr;
  pthread_join(thread_, nullptr);
  started_ = false;
  auto j = std::move(job_);
  if (!j->built) why = "policy background build: " + j->why;
  return std::move(j->built);
}

void policy_base_rebuild::stop() {
  if (!started_) return;
  pthread_join(thread_, nullptr);
  started_ = false;
  job_.reset();  // its classifier, if built, was never published
}

std::unique_ptr<policy_classifier> policy_background_builds::take(std::string& why) {
  if (!fold_.ready()) return nullptr;
  folding_base_ = false;
  return fold_.take(why);
}

policy_background_builds::started policy_background_builds::after_publish(const policy_classifier& running,
                                                                         const policy_acl_rule* rules, size_t n,
                                                                         const std::vector<uint32_t>* base_renumbered,
                                                                         std::string& why) {
  started s;
  if (!base_ && rebase_.ready()) base_ = rebase_.take(why);  // nullptr with `why` when it failed
  auto copy = [&] { return std::vector<policy_acl_rule>(rules, rules + n); };
  if (!fold_.running()) {
    if (base_) {
      s.fold = fold_.start(copy(), why, base_.get(), base_renumbered);
      folding_base_ = s.fold;
      if (s.fold) base_.reset();  // the job holds a copy
    } else if (running.recent_pods(4) || running.recent_pods(6)) {
      s.fold = fold_.start(copy(), why, &running);
    }
  }
  // The layers hold many rules, and no new base is on the way to replace them.
  const bool grown =
      running.delta_rules(4) > policy_delta_rebase_rules || running.delta_rules(6) > policy_delta_rebase_rules;
  if (grown && !rebase_.running() && !base_ && !folding_base_) s.base = rebase_.start(copy(), why);
  return s;
}

void policy_background_builds::stop() {
  fold_.stop();
  rebase_.stop();
  base_.reset();
  folding_base_ = false;
}

}  // namespace kgw
