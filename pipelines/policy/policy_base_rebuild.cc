#include "pipelines/policy/policy_base_rebuild.h"

#include <rte_lcore.h>

#include <cstring>

namespace kgw {

void* policy_base_rebuild::run(void* arg) {
  auto* j = static_cast<job*>(arg);
  auto c = std::make_unique<policy_classifier>();
  if (c->build(j->rules.data(), j->rules.size(), j->why, j->over.get(), nullptr, false, policy_build_layer::middle))
    j->built = std::move(c);
  j->over.reset();  // its contexts are shared: dropped here, not by the main lcore
  j->done.store(true, std::memory_order_release);
  return nullptr;
}

bool policy_base_rebuild::start(std::vector<policy_acl_rule> rules, std::string& why, const policy_classifier* over) {
  if (started_) {
    why = "a background build runs already";
    return false;
  }
  job_ = std::make_unique<job>();
  job_->rules = std::move(rules);
  if (over) job_->over = std::make_unique<policy_classifier>(*over);
  if (int rc = rte_ctrl_thread_create(&thread_, "kgw-policy-base", nullptr, run, job_.get()); rc != 0) {
    why = std::string("cannot start the policy rebuild thread: ") + std::strerror(rc);
    job_.reset();
    return false;
  }
  started_ = true;
  building_ = over ? kind::middle : kind::base;
  return true;
}

bool policy_base_rebuild::start_for(const policy_classifier& running, std::vector<policy_acl_rule> rules,
                                    std::string& why) {
  switch (wanted(running)) {
    case kind::none: why = "nothing to build"; return false;
    case kind::middle: return start(std::move(rules), why, &running);
    case kind::base: return start(std::move(rules), why);
  }
  return false;
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

}  // namespace kgw
