// What the workers classify new Service flows with: the classifier the main
// lcore built from a published rule list, and that list (freed with it).
// Swapped whole by the main lcore (dataplane/publish/policy_publisher.h);
// workers load the pointer once per burst.
#pragma once

#include <cstdint>

#include "pipelines/policy/policy_classifier.h"
#include "pipelines/policy/policy_hits.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

struct policy_table {
  const policy_rule_list* list = nullptr;
  policy_classifier classifier;
  // [worker][list->n_policies] (policy_hits.h); nullptr: not counted.
  policy_hits* hits = nullptr;
  // Worker w's row of `hits`.
  policy_hit_row row(unsigned w) const {
    return hits && list ? policy_hit_row{hits + size_t{w} * list->n_policies, list->n_policies} : policy_hit_row{};
  }
  // False when the list holds no rule: no flow is classified at all.
  bool enforcing() const { return list && list->n_rules > 0; }
};

}  // namespace kgw
