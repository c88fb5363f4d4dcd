#include "pipelines/policy/policy_base_rebuild.h"

#include <rte_lcore.h>

#include <cstring>

namespace kgw {

void* policy_base_rebuild::run(void* arg) {
  auto* j = static_cast<job*>(arg);
  auto c = std::make_unique<policy_classifier>();
  if (c->build(j->rules.data(), j->rules.size(), j->why)) j->built = std::move(c);
  j->done.store(true, std::memory_order_release);
  return nullptr;
}

bool policy_base_rebuild::start(std::vector<policy_acl_rule> rules, std::string& why) {
  if (started_) {
    why = "a rebuild runs already";
    return false;
  }
  job_ = std::make_unique<job>();
  job_->rules = std::move(rules);
  if (int rc = rte_ctrl_thread_create(&thread_, "kgw-policy-base", nullptr, run, job_.get()); rc != 0) {
    why = std::string("cannot start the policy rebuild thread: ") + std::strerror(rc);
    job_.reset();
    return false;
  }
  started_ = true;
  return true;
}

std::unique_ptr<policy_classifier> policy_base_rebuild::take(std::string& why) {
  if (!ready()) return nullptr;
  pthread_join(thread_, nullptr);
  started_ = false;
  auto j = std::move(job_);
  if (!j->built) why = "policy base rebuild: " + j->why;
  return std::move(j->built);
}

void policy_base_rebuild::stop() {
  if (!started_) return;
  pthread_join(thread_, nullptr);
  started_ = false;
  job_.reset();  // its classifier, if built, was never published
}

}  // namespace kgw
