// NetworkPolicy for the lb tests: manifests compiled as control compiles
// them, the classifier built from the rules as the dataplane builds it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/policy/policy_compiler.h"
#include "pipelines/policy/policy_table.h"

namespace kgw::test {

// Fills `table` (pointing at `list`, of `generation`) from the Pods,
// Namespaces and NetworkPolicies of `yaml`.
inline void build_policy(const std::string& yaml, uint64_t generation, policy_rule_list& list, policy_table& table) {
  policy::policy_manifests m;
  std::vector<manifest_issue> errors, warnings;
  policy::parse_policy_manifests("t.yaml", yaml, m, errors, warnings);
  ASSERT_TRUE(errors.empty()) << errors[0].to_string();
  policy::compiled_policies cp = policy::compile_policies(m);
  std::string why;
  ASSERT_TRUE(table.classifier.build(cp.rules.data(), cp.rules.size(), why)) << why;
  list.n_rules = static_cast<uint32_t>(cp.rules.size());
  list.generation = generation;
  table.list = &list;
}

}  // namespace kgw::test
