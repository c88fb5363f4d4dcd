#include "control/cli/policy_view.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <vector>

#include "pipelines/contract/policy_catalog.h"
#include "pipelines/policy/policy_rule_list.h"

namespace kgw {

namespace {

// A private copy of the block (rules and catalog) the dataplane classifies
// with now. The block is freed a grace period and two seconds after it is
// replaced, so a copy that saw the same block and generation before and
// after is whole.
struct policy_copy {
  std::vector<uint64_t> words;  // the block, 8-byte aligned as rte_malloc made it
  size_t bytes = 0;
  const policy_rule_list& list() const { return *reinterpret_cast<const policy_rule_list*>(words.data()); }
  const policy_catalog* catalog() const { return policy_catalog_of(list(), bytes); }
};

std::optional<policy_copy> copy_policy(const shared_state& s) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const policy_rule_list* l = __atomic_load_n(&s.policy_rules, __ATOMIC_ACQUIRE);
    if (!l) return std::nullopt;
    uint64_t gen = __atomic_load_n(&l->generation, __ATOMIC_ACQUIRE);
    size_t bytes = 0;
    if (rte_malloc_validate(l, &bytes) != 0 || bytes < sizeof(policy_rule_list)) continue;
    policy_copy c;
    c.bytes = bytes;
    c.words.resize((bytes + 7) / 8);
    std::memcpy(c.words.data(), l, bytes);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const bool same = __atomic_load_n(&s.policy_rules, __ATOMIC_ACQUIRE) == l &&
                      __atomic_load_n(&l->generation, __ATOMIC_ACQUIRE) == gen;
    if (same && policy_rule_list_valid(c.list(), bytes)) return c;
  }
  return std::nullopt;
}

struct rule_counts {
  uint32_t v4 = 0, v6 = 0;
  uint32_t all() const { return v4 + v6; }
};

// Rules per policy index (the last element: every rule).
std::vector<rule_counts> count_rules(const policy_rule_list& l, uint32_t n_policies) {
  std::vector<rule_counts> out(n_policies + 1);
  for (uint32_t i = 0; i < l.n_rules; ++i) {
    const policy_acl_rule& r = l.rules()[i];
    for (rule_counts* c : {&out.back(), r.policy < n_policies ? &out[r.policy] : nullptr})
      if (c) (r.family == 6 ? c->v6 : c->v4)++;
  }
  return out;
}

std::string hit_columns(const policy_hits& h) {
  return fmt::format("  {:>10} {:>11} {:>10} {:>10}", h.allowed_ingress, h.allowed_egress, h.denied_ingress,
                     h.denied_egress);
}

std::string types_of(const policy_catalog_entry& e) {
  if (e.ingress && e.egress) return "Ingress,Egress";
  return e.ingress ? "Ingress" : e.egress ? "Egress" : "-";
}

std::string header(const policy_rule_list& l, const policy_catalog* c, const rule_counts& all) {
  std::string out = fmt::format("policy: generation {}, {} NetworkPolicies, {} rules ({} IPv4, {} IPv6)",
                                l.generation, l.n_policies, all.all(), all.v4, all.v6);
  if (!c) return out + "\n(no catalog: published by an older control)\n";
  const uint64_t ns = __atomic_load_n(&c->build_ns, __ATOMIC_RELAXED);
  out += ns ? fmt::format(", classifier built in {:.3f} ms\n", ns / 1e6) : std::string("\n");
  out += fmt::format("pods: {} with an address, {} isolated for ingress, {} for egress\n", c->n_pods,
                     c->isolated_ingress, c->isolated_egress);
  return out;
}

}  // namespace

std::string format_policies(const shared_state& s) {
  auto copy = copy_policy(s);
  if (!copy) return "policy: no NetworkPolicy rules published\n";
  const policy_rule_list& l = copy->list();
  const policy_catalog* c = copy->catalog();
  const uint32_t n = c ? c->n_policies : 0;
  const auto rules = count_rules(l, n);
  std::string out = header(l, c, rules.back());
  if (!n) return out;
  const auto hits = sum_policy_hits(*c);
  out += fmt::format("{:<48} {:<15} {:>7} {:>7}{}\n", "POLICY", "TYPES", "RULES", "PODS",
                     hits.empty() ? "" : "  ALLOWED-IN ALLOWED-OUT  DENIED-IN DENIED-OUT");
  for (uint32_t i = 0; i < n; ++i) {
    const policy_catalog_entry& e = c->entries()[i];
    out += fmt::format("{:<48} {:<15} {:>7} {:>7}{}\n", c->names() + e.name, types_of(e), rules[i].all(), e.n_pods,
                       hits.empty() ? "" : hit_columns(hits[i]));
  }
  return out;
}

bool format_policy(const shared_state& s, const std::string& name, std::string& out) {
  auto copy = copy_policy(s);
  if (!copy) {
    out = "policy: no NetworkPolicy rules published\n";
    return false;
  }
  const policy_rule_list& l = copy->list();
  const policy_catalog* c = copy->catalog();
  const uint32_t n = c ? c->n_policies : 0;
  for (uint32_t i = 0; i < n; ++i) {
    const policy_catalog_entry& e = c->entries()[i];
    if (name != c->names() + e.name) continue;
    const auto rules = count_rules(l, n);
    out = fmt::format("policy {}: generation {}\ntypes: {}\nrules: {} ({} IPv4, {} IPv6)\nselects {} Pods{}\n", name,
                      l.generation, types_of(e), rules[i].all(), rules[i].v4, rules[i].v6, e.n_pods,
                      e.n_pods ? ":" : "");
    const auto hits = sum_policy_hits(*c);
    if (!hits.empty())
      out += fmt::format("since published: allowed ingress {}  egress {}; denied while it isolated, ingress {}  egress {}\n",
                         hits[i].allowed_ingress, hits[i].allowed_egress, hits[i].denied_ingress,
                         hits[i].denied_egress);
    for (uint32_t p = 0; p < e.n_pods; ++p) out += fmt::format("  {}\n", c->names() + c->pod_refs()[e.first_pod + p]);
    return true;
  }
  out = fmt::format("policy: no NetworkPolicy {} runs (`show policy` lists them)\n", name);
  return false;
}

}  // namespace kgw
