// The NetworkPolicy rules as control hands them to the dataplane: the
// Pods, Namespaces and NetworkPolicies of the manifests compiled
// (control/policy) into one block of shared memory
// (pipelines/policy/policy_rule_list.h), sent only when it differs from what
// runs.
#pragma once

#include <string>
#include <vector>

#include "control/policy/policy_compiler.h"
#include "dataplane/publish/policy_publisher.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

// Reads and compiles the policy objects of `dir`. False with `errors`
// (file:line) when any of them is invalid; warnings are logged.
bool compile_policy_dir(const std::string& dir, policy::compiled_policies& out, std::vector<std::string>& errors);

// Nullptr with `error` when there are more rules than a list holds, or
// memory is short.
policy_rule_list* build_policy_rule_list(const policy::compiled_policies& cp, std::string& error);
// Whether two lists hold the same rules (the generation aside).
bool same_policy_rules(const policy_rule_list* a, const policy_rule_list* b);
void free_policy_rule_list(policy_rule_list* l);

// The NetworkPolicies of `dir` checked now (an invalid one stops the start
// as an invalid Service does), and the hook that publishes their rules
// (left empty when `dir` holds no NetworkPolicy).
bool initial_policy_from(const std::string& dir, initial_policy_publish& out, std::string& error);

}  // namespace kgw
