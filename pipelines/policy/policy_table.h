// What the workers classify new Service flows with: the classifier the main
// lcore built from a published rule list, and that list (freed with it).
// Swapped whole by the main lcore (dataplane/publish/policy_publisher.h);
// workers load the pointer once per burst.
#pragma once

#include <cstdint>

#include "pipelines/policy/policy_classifier.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

struct policy_table {
  const policy_rule_list* list = nullptr;
  policy_classifier classifier;
  // False when the list holds no rule: no flow is classified at all.
  bool enforcing() const { return list && list->n_rules > 0; }
};

}  // namespace kgw
