// The NetworkPolicy rules as control hands them to the dataplane: the
// Pods, Namespaces and NetworkPolicies of the manifests compiled
// (control/policy) into one block of shared memory, the rules
// (pipelines/policy/policy_rule_list.h) followed by their catalog
// (pipelines/contract/policy_catalog.h), sent only when it differs from
// what runs.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/policy/policy_compiler.h"
#include "control/services/parsed_manifest.h"
#include "dataplane/publish/policy_publisher.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

// The policy objects of the manifests and the rules compiled from them:
// what a rule list and its catalog are built from.
struct policy_compile {
  policy::policy_manifests objects;
  policy::compiled_policies compiled;
};

// The policy objects of each manifest file the Services' load holds
// (manifest_cache), read from the text that load parsed: a file is parsed
// again for them only when that load parsed it again, and the rules are
// compiled again only when one of those files changed.
struct policy_parse_cache {
  struct file {
    file_ref from;  // the Services' parse these objects were read with
    policy::policy_manifests objects;
    std::vector<manifest_issue> errors;
  };
  std::unordered_map<std::string, file> files;  // by file name
  std::shared_ptr<const policy_compile> last;   // of the files as they are; nullptr after an error
};

// The NetworkPolicy model of the files `load` holds. Nullptr with `errors`
// (file:line) when a policy object is invalid or there are more rules than a
// list holds. Warnings are logged when a file is read.
std::shared_ptr<const policy_compile> compile_policy_files(const manifest_cache& load, policy_parse_cache& cache,
                                                           std::vector<std::string>& errors);

// The same from reading `dir` (the dataplane's start).
bool compile_policy_dir(const std::string& dir, policy_compile& out, std::vector<std::string>& errors);

// Nullptr with `error` when memory is short.
policy_rule_list* build_policy_rule_list(const policy_compile& pc, std::string& error);
// Whether two lists hold the same rules and catalog (the generation and build time aside).
bool same_policy_rules(const policy_rule_list* a, const policy_rule_list* b);
void free_policy_rule_list(policy_rule_list* l);

// The NetworkPolicies of `dir` checked now (an invalid one stops the start
// as an invalid Service does), and the hook that publishes their rules
// (left empty when `dir` holds no NetworkPolicy).
bool initial_policy_from(const std::string& dir, initial_policy_publish& out, std::string& error);

}  // namespace kgw
