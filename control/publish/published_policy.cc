#include "control/publish/published_policy.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_set>

#include "dataplane/log.h"
#include "pipelines/contract/policy_catalog.h"

namespace kgw {

namespace {

// The rules compiled from `m`; false with an error when a list cannot hold them.
bool compile(policy_compile& pc, std::vector<std::string>& errors) {
  pc.compiled = policy::compile_policies(pc.objects);
  if (pc.compiled.rules.size() > max_policy_rules) {
    errors.push_back(fmt::format("policy: {} rules, kgw holds at most {}", pc.compiled.rules.size(), max_policy_rules));
    return false;
  }
  return true;
}

// What the catalog says, before it is laid out in shared memory.
struct catalog_parts {
  std::vector<policy_catalog_entry> entries;
  std::vector<uint32_t> pod_refs;
  std::string names;
  uint32_t isolated_ingress = 0, isolated_egress = 0;
};

uint32_t add_name(std::string& names, const std::string& n) {
  auto at = static_cast<uint32_t>(names.size());
  names += n;
  names += '\0';
  return at;
}

catalog_parts describe(const policy_compile& pc) {
  const policy::compiled_policies& cp = pc.compiled;
  catalog_parts out;
  std::map<std::string, const policy::network_policy*> by_id;
  for (const auto& p : pc.objects.policies) by_id.emplace(p.id(), &p);
  // Each policy's selected Pods: those it isolates for either direction.
  std::vector<std::vector<uint32_t>> selected(cp.policies.size());
  for (const auto& pod : cp.pods) {
    if (!pod.ingress_policies.empty()) out.isolated_ingress++;
    if (!pod.egress_policies.empty()) out.isolated_egress++;
    std::vector<uint32_t> by = pod.ingress_policies;
    by.insert(by.end(), pod.egress_policies.begin(), pod.egress_policies.end());
    std::sort(by.begin(), by.end());
    by.erase(std::unique(by.begin(), by.end()), by.end());
    if (by.empty()) continue;
    const uint32_t name = add_name(out.names, pod.id);
    for (uint32_t i : by)
      if (i < selected.size()) selected[i].push_back(name);
  }
  for (size_t i = 0; i < cp.policies.size(); ++i) {
    policy_catalog_entry e{};
    e.name = add_name(out.names, cp.policies[i]);
    if (auto it = by_id.find(cp.policies[i]); it != by_id.end()) {
      e.ingress = it->second->ingress_type;
      e.egress = it->second->egress_type;
    }
    e.first_pod = static_cast<uint32_t>(out.pod_refs.size());
    e.n_pods = static_cast<uint32_t>(selected[i].size());
    out.pod_refs.insert(out.pod_refs.end(), selected[i].begin(), selected[i].end());
    out.entries.push_back(e);
  }
  return out;
}

const policy_catalog* catalog_in(const policy_rule_list* l) {
  size_t bytes = 0;
  if (!l || rte_malloc_validate(l, &bytes) != 0) return nullptr;
  return policy_catalog_of(*l, bytes);
}

}  // namespace

std::shared_ptr<const policy_compile> compile_policy_files(const manifest_cache& load, policy_parse_cache& cache,
                                                           std::vector<std::string>& errors) {
  bool changed = !cache.last;
  const size_t errors_before = errors.size();
  std::vector<const policy::policy_manifests*> parts;
  std::unordered_set<std::string> present;
  for (const auto& [name, ref] : load.policy_files) {
    present.insert(name);
    policy_parse_cache::file& f = cache.files[name];
    if (f.from != ref) {
      f = {};
      f.from = ref;
      std::vector<manifest_issue> warnings;
      policy::parse_policy_manifests(load.dir + "/" + name, ref->policy_text, f.objects, f.errors, warnings);
      for (const auto& w : warnings) log_warn("{}", w.to_string());
      changed = true;
    }
    for (const auto& e : f.errors) errors.push_back(e.to_string());
    parts.push_back(&f.objects);
  }
  changed |= std::erase_if(cache.files, [&](const auto& kv) { return !present.contains(kv.first); }) > 0;
  if (errors.size() == errors_before && !changed) return cache.last;
  cache.last = nullptr;  // compiled anew below, or again on the next pass after an error
  if (errors.size() != errors_before) return nullptr;
  auto pc = std::make_shared<policy_compile>();
  std::vector<manifest_issue> issues;
  policy::merge_policy_manifests(parts, pc->objects, issues);
  for (const auto& e : issues) errors.push_back(e.to_string());
  if (!issues.empty() || !compile(*pc, errors)) return nullptr;
  cache.last = pc;
  return pc;
}

bool compile_policy_dir(const std::string& dir, policy_compile& out, std::vector<std::string>& errors) {
  std::vector<manifest_issue> issues, warnings;
  policy::load_policy_manifests(dir, out.objects, issues, warnings);
  for (const auto& w : warnings) log_warn("{}", w.to_string());
  for (const auto& e : issues) errors.push_back(e.to_string());
  if (!errors.empty()) return false;
  return compile(out, errors);
}

policy_rule_list* build_policy_rule_list(const policy_compile& pc, std::string& error) {
  const policy::compiled_policies& cp = pc.compiled;
  const auto n = static_cast<uint32_t>(cp.rules.size());
  const catalog_parts parts = describe(pc);
  const auto n_policies = static_cast<uint32_t>(parts.entries.size());
  const auto n_refs = static_cast<uint32_t>(parts.pod_refs.size());
  const auto names_bytes = static_cast<uint32_t>(parts.names.size());
  const size_t bytes = policy_rule_list_bytes(n) + policy_catalog_bytes(n_policies, n_refs, names_bytes);
  auto* l = static_cast<policy_rule_list*>(rte_zmalloc("kgw_policy_rules", bytes, 64));
  if (!l) {
    error = fmt::format("policy: cannot allocate {} bytes of shared memory", bytes);
    return nullptr;
  }
  new (l) policy_rule_list{};
  l->n_rules = n;
  l->n_policies = static_cast<uint32_t>(cp.policies.size());
  if (n) std::memcpy(static_cast<void*>(l->rules()), cp.rules.data(), n * sizeof(policy_acl_rule));
  auto* c = new (reinterpret_cast<char*>(l) + policy_rule_list_bytes(n)) policy_catalog{};
  c->n_policies = n_policies;
  c->n_pod_refs = n_refs;
  c->names_bytes = names_bytes;
  c->n_pods = static_cast<uint32_t>(cp.pods.size());
  c->isolated_ingress = parts.isolated_ingress;
  c->isolated_egress = parts.isolated_egress;
  if (n_policies) std::memcpy(static_cast<void*>(c->entries()), parts.entries.data(), n_policies * sizeof(policy_catalog_entry));
  if (n_refs) std::memcpy(c->pod_refs(), parts.pod_refs.data(), n_refs * sizeof(uint32_t));
  if (names_bytes) std::memcpy(c->names(), parts.names.data(), names_bytes);
  return l;
}

bool same_policy_rules(const policy_rule_list* a, const policy_rule_list* b) {
  if (!a || !b) return a == b;
  if (a->n_rules != b->n_rules || a->n_policies != b->n_policies ||
      std::memcmp(a->rules(), b->rules(), a->n_rules * sizeof(policy_acl_rule)) != 0)
    return false;
  const policy_catalog *ca = catalog_in(a), *cb = catalog_in(b);
  if (!ca || !cb) return ca == cb;
  const size_t tail = policy_catalog_bytes(ca->n_policies, ca->n_pod_refs, ca->names_bytes) - sizeof(policy_catalog);
  return ca->n_policies == cb->n_policies && ca->n_pod_refs == cb->n_pod_refs && ca->names_bytes == cb->names_bytes &&
         ca->n_pods == cb->n_pods && ca->isolated_ingress == cb->isolated_ingress &&
         ca->isolated_egress == cb->isolated_egress && std::memcmp(ca + 1, cb + 1, tail) == 0;
}

void free_policy_rule_list(policy_rule_list* l) { rte_free(l); }

bool initial_policy_from(const std::string& dir, initial_policy_publish& out, std::string& error) {
  auto pc = std::make_shared<policy_compile>();
  std::vector<std::string> errors;
  if (!compile_policy_dir(dir, *pc, errors)) {
    error = fmt::format("{} invalid NetworkPolicy object(s) in {}:", errors.size(), dir);
    for (const auto& e : errors) error += "\n  " + e;
    return false;
  }
  if (pc->compiled.policies.empty()) return true;
  log_info("policy: {} NetworkPolicies, {} rules", pc->compiled.policies.size(), pc->compiled.rules.size());
  out = [pc](policy_publisher& p, std::string& e) {
    policy_rule_list* l = build_policy_rule_list(*pc, e);
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
