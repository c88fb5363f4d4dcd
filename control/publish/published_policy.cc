#include "control/publish/published_policy.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <cstring>
#include <memory>

#include "dataplane/log.h"

namespace kgw {

bool compile_policy_dir(const std::string& dir, policy::compiled_policies& out, std::vector<std::string>& errors) {
  policy::policy_manifests m;
  std::vector<manifest_issue> issues, warnings;
  policy::load_policy_manifests(dir, m, issues, warnings);
  for (const auto& w : warnings) log_warn("{}", w.to_string());
  for (const auto& e : issues) errors.push_back(e.to_string());
  if (!errors.empty()) return false;
  out = policy::compile_policies(m);
  return true;
}

policy_rule_list* build_policy_rule_list(const policy::compiled_policies& cp, std::string& error) {
  if (cp.rules.size() > max_policy_rules) {
    error = fmt::format("policy: {} rules, kgw holds at most {}", cp.rules.size(), max_policy_rules);
    return nullptr;
  }
  const auto n = static_cast<uint32_t>(cp.rules.size());
  const size_t bytes = policy_rule_list_bytes(n);
  auto* l = static_cast<policy_rule_list*>(rte_zmalloc("kgw_policy_rules", bytes, 64));
  if (!l) {
    error = fmt::format("policy: cannot allocate {} bytes of shared memory", bytes);
    return nullptr;
  }
  new (l) policy_rule_list{};
  l->n_rules = n;
  l->n_policies = static_cast<uint32_t>(cp.policies.size());
  if (n) std::memcpy(static_cast<void*>(l->rules()), cp.rules.data(), n * sizeof(policy_acl_rule));
  return l;
}

bool same_policy_rules(const policy_rule_list* a, const policy_rule_list* b) {
  if (!a || !b) return a == b;
  return a->n_rules == b->n_rules && a->n_policies == b->n_policies &&
         std::memcmp(a->rules(), b->rules(), a->n_rules * sizeof(policy_acl_rule)) == 0;
}

void free_policy_rule_list(policy_rule_list* l) { rte_free(l); }

bool initial_policy_from(const std::string& dir, initial_policy_publish& out, std::string& error) {
  auto cp = std::make_shared<policy::compiled_policies>();
  std::vector<std::string> errors;
  if (!compile_policy_dir(dir, *cp, errors)) {
    error = fmt::format("{} invalid NetworkPolicy object(s) in {}:", errors.size(), dir);
    for (const auto& e : errors) error += "\n  " + e;
    return false;
  }
  if (cp->policies.empty()) return true;
  log_info("policy: {} NetworkPolicies, {} rules", cp->policies.size(), cp->rules.size());
  out = [cp](policy_publisher& p, std::string& e) {
    policy_rule_list* l = build_policy_rule_list(*cp, e);
    if (!l) return false;
    if (!p.apply(l, e)) {
      free_policy_rule_list(l);
      return false;
    }
    return true;
  };
  return true;
}

}  // namespace kgw
