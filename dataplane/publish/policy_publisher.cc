#include "dataplane/publish/policy_publisher.h"

#include <rte_malloc.h>
#include <rte_memory.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/log.h"
#include "pipelines/contract/policy_catalog.h"

namespace kgw {

namespace {

bool live_list(const policy_rule_list* l) {
  size_t bytes = 0;
  return l && rte_mem_virt2memseg(l, nullptr) && rte_malloc_validate(l, &bytes) == 0 &&
         policy_rule_list_valid(*l, bytes);
}

const policy_catalog* catalog_of(const policy_rule_list* l) {
  size_t bytes = 0;
  return l && rte_malloc_validate(l, &bytes) == 0 ? policy_catalog_of(*l, bytes) : nullptr;
}

// The names of l's policies by index; false without a catalog.
bool policy_names(const policy_rule_list* l, std::vector<std::string>& out) {
  out.clear();
  const policy_catalog* c = catalog_of(l);
  if (!c) return false;
  for (uint32_t i = 0; i < c->n_policies; ++i) out.emplace_back(c->names() + c->entries()[i].name);
  return true;
}

// Where each policy named `from` is in `to`, by name (policy_none: gone), when
// the indices moved (a policy added or removed before others); empty when
// they did not. False when `to` does not say (no catalog).
bool renumbering(const std::vector<std::string>& from, const policy_rule_list* to, std::vector<uint32_t>& out) {
  out.clear();
  const policy_catalog* b = catalog_of(to);
  if (!b) return false;
  std::unordered_map<std::string_view, uint32_t> index;
  for (uint32_t i = 0; i < b->n_policies; ++i) index.emplace(b->names() + b->entries()[i].name, i);
  bool same = from.size() == b->n_policies;
  std::vector<uint32_t> map(from.size(), policy_none);
  for (uint32_t i = 0; i < from.size(); ++i) {
    auto it = index.find(from[i]);
    if (it != index.end()) map[i] = it->second;
    same = same && map[i] == i;
  }
  if (!same) out = std::move(map);
  return true;
}

}  // namespace

policy_table* build_policy_table(const policy_rule_list* l, std::string& error, const policy_table* previous,
                                 const policy_fresh_base* fresh, bool uncapped) {
  if (!live_list(l)) {
    error = "not a valid NetworkPolicy rule list";
    return nullptr;
  }
  // The main lcore's own memory: only the workers of this process read it.
  auto t = std::make_unique<policy_table>();
  std::string why;
  std::vector<uint32_t> moved;
  std::vector<std::string> names;
  const policy_classifier* over = nullptr;
  if (fresh) {
    if (renumbering(fresh->names, l, moved)) over = fresh->classifier.get();
  } else if (previous && policy_names(previous->list, names) && renumbering(names, l, moved)) {
    over = &previous->classifier;
  }  // else cannot tell how policies moved: build whole
  if (!t->classifier.build(l->rules(), l->n_rules, why, over, moved.empty() ? nullptr : &moved, uncapped)) {
    error = fmt::format("policy: cannot build the classifier from {} rules: {}", l->n_rules, why);
    return nullptr;
  }
  t->list = l;
  return t.release();
}

void free_policy_table(policy_table* t) {
  if (!t) return;
  rte_free(t->hits);
  rte_free(const_cast<policy_rule_list*>(t->list));
  delete t;
}

policy_publisher::~policy_publisher() { release(); }

void policy_publisher::release() {
  background_.stop();
  reclaim(true);
  if (shared_) *shared_ = nullptr;
  shared_ = nullptr;  // the shared state goes after this
  free_policy_table(current_);
  current_ = nullptr;
}

bool policy_publisher::apply(policy_rule_list* l, std::string& error) {
  if (!qsbr_) {
    error = "no RCU for the NetworkPolicy rules";
    return false;
  }
  const auto t0 = std::chrono::steady_clock::now();
  // A new base built meanwhile: this list is built over it.
  std::string why;
  policy_fresh_base fresh{background_.take(why), {}};
  if (fresh.classifier) fresh.names = std::move(fold_names_);
  else if (!why.empty()) log_error("{}; the running base stays", why);
  // Uncapped over a fresh base too: what changed while it was built may be
  // more than the cut, and a new rebuild then starts right after.
  policy_table* t = build_policy_table(l, error, current_, fresh.classifier ? &fresh : nullptr,
                                       background_.running() || fresh.classifier != nullptr);
  const auto build_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  if (!t) {
    ++build_failures_;
    log_error("{}; the running NetworkPolicy classifier stays", error);
    return false;
  }
  l->generation = ++generation_;
  // Per-policy counts, zeroed: they start with the list. Without memory the
  // rules still apply, uncounted.
  if (l->n_policies)
    t->hits = static_cast<policy_hits*>(
        rte_zmalloc("kgw_policy_hits", sizeof(policy_hits) * l->n_policies * n_workers_, 64));
  // For `show policy`: the catalog control wrote after the rules (the block was checked by the build).
  if (auto* c = const_cast<policy_catalog*>(catalog_of(l))) {
    c->hit_workers = t->hits ? n_workers_ : 0;
    __atomic_store_n(&c->hits, reinterpret_cast<uint64_t>(t->hits), __ATOMIC_RELAXED);
    __atomic_store_n(&c->build_ns, std::max<uint64_t>(build_ns.count(), 1), __ATOMIC_RELEASE);
  }
  policy_table* old = current_;
  __atomic_store_n(&current_, t, __ATOMIC_RELEASE);
  if (shared_) __atomic_store_n(shared_, l, __ATOMIC_RELEASE);
  // Workers load the slot once per burst and report quiescence once per loop.
  retired_.retire(qsbr_, old);
  const policy_classifier& c = t->classifier;
  // Changed Pods in the recent layer: folded into a middle, and past
  // policy_delta_rebase_rules a new base, from copies of these rules, off the
  // change path. A finished base's policies are renumbered by name.
  std::vector<std::string> names;
  std::vector<uint32_t> moved;
  why.clear();
  if (policy_names(l, names) && (!background_.base_finished() || renumbering(rebase_names_, l, moved))) {
    const auto s = background_.after_publish(c, l->rules(), l->n_rules, moved.empty() ? nullptr : &moved, why);
    if (s.fold) fold_names_ = names;
    if (s.base) rebase_names_ = std::move(names);
  }
  if (!why.empty()) log_error("{}; the recent layer grows until the next background build", why);
  const policy_build_stats &s4 = c.build_stats(4), &s6 = c.build_stats(6);
  auto what = [](const policy_build_stats& s) { return s.whole ? "whole," : s.middle ? "middle," : "recent,"; };
  log_info(
      "policy: generation {} published ({} NetworkPolicies, {} IPv4 and {} IPv6 rules; built in {} us: IPv4 {} {} "
      "rules ({} changed Pods), IPv6 {} {} rules ({} changed Pods); layers: IPv4 {} middle, {} recent rules{}{}{})",
      generation_, l->n_policies, c.rules(4), c.rules(6), build_ns.count() / 1000, what(s4), s4.rules_built,
      s4.changed_pods, what(s6), s6.rules_built, s6.changed_pods, c.middle_rules(4), c.recent_rules(4),
      fresh.classifier ? "; over layers built in the background" : "",
      background_.folding() ? "; a new middle is being built" : "",
      background_.rebasing() ? "; a new base is being built" : "");
  return true;
}

void policy_publisher::reclaim(bool all) {
  if (qsbr_) retired_.reclaim(qsbr_, all);
}

}  // namespace kgw
