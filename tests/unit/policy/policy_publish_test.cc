// Publishing NetworkPolicy rules: control's rule list (compiled from
// manifests) in shared memory, the primary's classifier built from it and
// swapped in, a list that cannot be built refused and counted with the
// running classifier kept, and the comparison that spares unchanged lists.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "control/publish/published_policy.h"
#include "dataplane/publish/policy_publisher.h"

namespace kgw {
namespace {

constexpr const char* deny_web = R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: web}}
status: {podIP: 198.19.1.11}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
)";

policy::compiled_policies compile(const std::string& text) {
  policy::policy_manifests m;
  std::vector<manifest_issue> errors, warnings;
  policy::parse_policy_manifests("t.yaml", text, m, errors, warnings);
  EXPECT_TRUE(errors.empty());
  return policy::compile_policies(m);
}

struct qsbr_fixture {
  rte_rcu_qsbr* q;
  qsbr_fixture() {
    q = static_cast<rte_rcu_qsbr*>(rte_zmalloc("t_qsbr", rte_rcu_qsbr_get_memsize(1), 64));
    rte_rcu_qsbr_init(q, 1);
  }
  ~qsbr_fixture() { rte_free(q); }
};

TEST(PolicyPublish, TheListCarriesTheCompiledRulesAndBuildsAClassifier) {
  policy::compiled_policies cp = compile(deny_web);
  ASSERT_FALSE(cp.rules.empty());
  std::string error;
  policy_rule_list* l = build_policy_rule_list(cp, error);
  ASSERT_NE(l, nullptr) << error;
  EXPECT_EQ(l->n_rules, cp.rules.size());
  EXPECT_EQ(l->n_policies, 1u);
  policy_rule_list* same = build_policy_rule_list(cp, error);
  EXPECT_TRUE(same_policy_rules(l, same));
  policy_rule_list* none = build_policy_rule_list(compile(""), error);
  EXPECT_FALSE(same_policy_rules(l, none));
  EXPECT_EQ(none->n_rules, 0u);
  policy_table* t = build_policy_table(l, error);
  ASSERT_NE(t, nullptr) << error;
  EXPECT_TRUE(t->enforcing());
  EXPECT_EQ(t->classifier.rules(4), cp.rules.size());
  free_policy_table(t);  // frees l with it
  free_policy_rule_list(same);
  free_policy_rule_list(none);
}

TEST(PolicyPublish, AnInvalidListIsRefusedAndStaysTheCallers) {
  std::string error;
  policy_rule_list* l = build_policy_rule_list(compile(deny_web), error);
  ASSERT_NE(l, nullptr);
  l->rules()[0].category = 9;
  EXPECT_EQ(build_policy_table(l, error), nullptr);
  EXPECT_EQ(error, "not a valid NetworkPolicy rule list");
  l->rules()[0].category = policy_ingress_isolated;
  l->n_rules += 1;  // one more than the block holds
  EXPECT_EQ(build_policy_table(l, error), nullptr);
  free_policy_rule_list(l);
  policy_rule_list local;  // not from rte_malloc
  EXPECT_EQ(build_policy_table(&local, error), nullptr);
}

TEST(PolicyPublish, ARefusedListKeepsTheRunningClassifierAndIsCounted) {
  qsbr_fixture rcu;
  const policy_rule_list* shared = nullptr;
  policy_publisher p;
  p.init(rcu.q, &shared);
  std::string error;
  policy_rule_list* first = build_policy_rule_list(compile(deny_web), error);
  ASSERT_TRUE(p.apply(first, error)) << error;
  EXPECT_EQ(p.generation(), 1u);
  EXPECT_EQ(shared, first);
  const policy_table* running = *p.slot();
  ASSERT_NE(running, nullptr);
  EXPECT_TRUE(running->enforcing());

  policy_rule_list* bad = build_policy_rule_list(compile(deny_web), error);
  bad->rules()[0].family = 5;
  EXPECT_FALSE(p.apply(bad, error));
  EXPECT_EQ(p.build_failures(), 1u);
  EXPECT_EQ(*p.slot(), running);
  EXPECT_EQ(shared, first);
  EXPECT_EQ(p.generation(), 1u);
  free_policy_rule_list(bad);

  // Every policy removed: a table that classifies nothing.
  policy_rule_list* empty = build_policy_rule_list(compile(""), error);
  ASSERT_TRUE(p.apply(empty, error)) << error;
  EXPECT_EQ(p.generation(), 2u);
  EXPECT_FALSE((*p.slot())->enforcing());
  p.release();
  EXPECT_EQ(shared, nullptr);
}

}  // namespace
}  // namespace kgw
