// Publishing NetworkPolicy rules: control's rule list (compiled from
// manifests) in shared memory, the primary's classifier built from it and
// swapped in, a list that cannot be built refused and counted with the
// running classifier kept, and the comparison that spares unchanged lists.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstring>
#include <string>

#include <fmt/format.h>
#include <rte_cycles.h>

#include "control/publish/published_policy.h"
#include "control/services/manifest_file.h"
#include "dataplane/publish/policy_publisher.h"
#include "pipelines/contract/policy_catalog.h"

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

policy_compile compile(const std::string& text) {
  policy_compile pc;
  std::vector<manifest_issue> errors, warnings;
  policy::parse_policy_manifests("t.yaml", text, pc.objects, errors, warnings);
  EXPECT_TRUE(errors.empty());
  pc.compiled = policy::compile_policies(pc.objects);
  return pc;
}

struct qsbr_fixture {
  rte_rcu_qsbr* q;
  qsbr_fixture() {
    q = static_cast<rte_rcu_qsbr*>(rte_zmalloc("t_qsbr", rte_rcu_qsbr_get_memsize(1), 64));
    rte_rcu_qsbr_init(q, 1);
  }
  ~qsbr_fixture() { rte_free(q); }
};

// A publisher as the primary's main lcore holds it, publishing to `shared`.
struct publisher_fixture {
  qsbr_fixture rcu;
  const policy_rule_list* shared = nullptr;
  policy_publisher p;
  publisher_fixture() { p.init(rcu.q, &shared); }
};

TEST(PolicyPublish, TheListCarriesTheCompiledRulesAndBuildsAClassifier) {
  policy_compile pc = compile(deny_web);
  const policy::compiled_policies& cp = pc.compiled;
  ASSERT_FALSE(cp.rules.empty());
  std::string error;
  policy_rule_list* l = build_policy_rule_list(pc, error);
  ASSERT_NE(l, nullptr) << error;
  EXPECT_EQ(l->n_rules, cp.rules.size());
  EXPECT_EQ(l->n_policies, 1u);
  policy_rule_list* same = build_policy_rule_list(pc, error);
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
  publisher_fixture f;
  policy_publisher& p = f.p;
  const policy_rule_list*& shared = f.shared;
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

constexpr const char* two_policies = R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: web}}
status: {podIPs: [{ip: 198.19.1.11}, {ip: "fd00::11"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: db}}
status: {podIP: 198.19.1.12}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y}
status: {podIP: 198.19.1.13}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: x}
spec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {}}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all-out, namespace: x}
spec: {podSelector: {}, policyTypes: [Egress]}
)";

size_t block_bytes(const policy_rule_list* l) {
  size_t bytes = 0;
  EXPECT_EQ(rte_malloc_validate(l, &bytes), 0);
  return bytes;
}

std::vector<std::string> selected(const policy_catalog& c, const policy_catalog_entry& e) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < e.n_pods; ++i) out.emplace_back(c.names() + c.pod_refs()[e.first_pod + i]);
  return out;
}

TEST(PolicyPublish, TheCatalogAfterTheRulesNamesEachPolicyItsTypesAndItsPods) {
  std::string error;
  policy_rule_list* l = build_policy_rule_list(compile(two_policies), error);
  ASSERT_NE(l, nullptr) << error;
  const policy_catalog* c = policy_catalog_of(*l, block_bytes(l));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->n_pods, 3u);
  EXPECT_EQ(c->isolated_ingress, 1u);  // x/a
  EXPECT_EQ(c->isolated_egress, 2u);   // x/a, x/b
  ASSERT_EQ(c->n_policies, 2u);        // sorted: the rules' policy indexes
  const policy_catalog_entry& out = c->entries()[0];
  EXPECT_STREQ(c->names() + out.name, "x/all-out");
  EXPECT_FALSE(out.ingress);
  EXPECT_TRUE(out.egress);
  EXPECT_EQ(selected(*c, out), (std::vector<std::string>{"x/a", "x/b"}));
  const policy_catalog_entry& in = c->entries()[1];
  EXPECT_STREQ(c->names() + in.name, "x/web-in");
  EXPECT_TRUE(in.ingress);
  EXPECT_FALSE(in.egress);
  EXPECT_EQ(selected(*c, in), (std::vector<std::string>{"x/a"}));
  EXPECT_EQ(c->build_ns, 0u);  // not built yet

  // Only the name differs: the rules are the same, the catalog is not.
  std::string renamed = two_policies;
  renamed.replace(renamed.find("web-in"), 6, "web-on");
  policy_rule_list* other = build_policy_rule_list(compile(renamed), error);
  ASSERT_NE(other, nullptr) << error;
  EXPECT_EQ(std::memcmp(l->rules(), other->rules(), l->n_rules * sizeof(policy_acl_rule)), 0);
  EXPECT_FALSE(same_policy_rules(l, other));
  free_policy_rule_list(other);

  // A catalog that points outside itself is not trusted.
  policy_catalog* w = policy_catalog_of(*l, block_bytes(l));
  w->entries()[0].n_pods = 1000;
  EXPECT_EQ(policy_catalog_of(*l, block_bytes(l)), nullptr);
  free_policy_rule_list(l);
}

TEST(PolicyPublish, ThePrimaryRecordsTheBuildTimeInTheCatalog) {
  publisher_fixture f;
  std::string error;
  policy_rule_list* l = build_policy_rule_list(compile(two_policies), error);
  ASSERT_TRUE(f.p.apply(l, error)) << error;
  const policy_catalog* c = policy_catalog_of(*f.shared, block_bytes(f.shared));
  ASSERT_NE(c, nullptr);
  EXPECT_GT(c->build_ns, 0u);
  f.p.release();
}

// File `name` of a load parses as `f` now, as the Services' scan records
// it: its parse, and the files holding policy objects.
void reparse(manifest_cache& m, const std::string& name, file_ref f) {
  m.parsed[name] = f;
  if (!f->policy_text.empty())
    m.policy_files[name] = f;
  else
    m.policy_files.erase(name);
}

// A load as the Services' scan leaves it: the files' names and parses.
manifest_cache load_of(const std::vector<std::pair<std::string, std::string>>& files) {
  manifest_cache m;
  m.dir = "/m";
  for (const auto& [name, text] : files) reparse(m, name, parse_manifest_file("/m/" + name, text));
  return m;
}

TEST(PolicyPublish, PolicyObjectsComeFromTheServicesParseAndAreCompiledAgainOnlyWhenAFileChanges) {
  constexpr const char* service = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n";
  manifest_cache load = load_of({{"a.yaml", two_policies}, {"svc.yaml", service}});
  EXPECT_FALSE(load.parsed.at("a.yaml")->policy_text.empty());
  EXPECT_TRUE(load.parsed.at("svc.yaml")->policy_text.empty());  // nothing of the policy model's: not kept
  policy_parse_cache cache;
  std::vector<std::string> errors;
  auto first = compile_policy_files(load, cache, errors);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(first->compiled.policies, (std::vector<std::string>{"x/all-out", "x/web-in"}));
  EXPECT_EQ(cache.files.size(), 1u);
  // The same parses: the same compile, not another.
  EXPECT_EQ(compile_policy_files(load, cache, errors), first);

  // A file changed (a new parse) with an invalid policy: refused with file:line, and again on the next pass.
  reparse(load, "svc.yaml",
          parse_manifest_file("/m/svc.yaml", std::string(service) +
                                                 "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                                 "metadata: {name: bad, namespace: x}\n"
                                                 "spec: {podSelector: {}, policyTypes: [Sideways]}\n"));
  EXPECT_EQ(compile_policy_files(load, cache, errors), nullptr);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("/m/svc.yaml:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("x/bad"), std::string::npos) << errors[0];
  errors.clear();
  EXPECT_EQ(compile_policy_files(load, cache, errors), nullptr);
  EXPECT_FALSE(errors.empty());

  // The same Pod in two files: the later one is the error.
  errors.clear();
  reparse(load, "svc.yaml", parse_manifest_file("/m/svc.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n"));
  EXPECT_EQ(compile_policy_files(load, cache, errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("/m/svc.yaml:1: x/a: metadata.name: duplicate Pod x/a (first defined at /m/a.yaml:1)"),
            std::string::npos)
      << errors[0];

  // The file gone: compiled anew, as the first time.
  errors.clear();
  load.policy_files.erase("svc.yaml");
  load.parsed.erase("svc.yaml");
  auto again = compile_policy_files(load, cache, errors);
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(errors.empty());
  EXPECT_NE(again, first);
  EXPECT_EQ(again->compiled.rules.size(), first->compiled.rules.size());
  EXPECT_EQ(cache.files.size(), 1u);
}

// A change to one Pod's rules is built as a delta over the running
// classifier's base; the old table goes after the grace period and the new
// one, sharing its base, still answers by the new rules.
TEST(PolicyPublish, AChangeIsBuiltAsADeltaOverTheRunningBase) {
  publisher_fixture f;
  policy_publisher& p = f.p;
  std::string error;
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(two_policies), error), error)) << error;
  const policy_table* first = *p.slot();
  EXPECT_TRUE(first->classifier.build_stats(4).whole);
  policy_flow a_to_c{4, 6, 80, {198, 19, 1, 11}, {198, 19, 1, 13}};
  policy_verdict v;
  first->classifier.classify(&a_to_c, 1, &v);
  EXPECT_FALSE(v.allow);  // all-out isolates a for egress

  // all-out now selects b only: a's egress rules are gone, nothing else changed.
  std::string changed = two_policies;
  changed.replace(changed.rfind("podSelector: {}"), 15, "podSelector: {matchLabels: {app: db}}");
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(changed), error), error)) << error;
  EXPECT_EQ(p.generation(), 2u);
  const policy_table* second = *p.slot();
  const policy_build_stats& s4 = second->classifier.build_stats(4);
  EXPECT_FALSE(s4.whole);
  EXPECT_EQ(s4.changed_pods, 1u);
  EXPECT_EQ(s4.rules_built, 0u);  // a has no egress rule any more: an empty delta
  EXPECT_EQ(second->classifier.build_stats(6).changed_pods, 1u);
  p.reclaim(true);  // the first table freed: its base lives on in the second
  second->classifier.classify(&a_to_c, 1, &v);
  EXPECT_TRUE(v.allow);
  policy_flow b_to_c{4, 6, 80, {198, 19, 1, 12}, {198, 19, 1, 13}};
  second->classifier.classify(&b_to_c, 1, &v);
  EXPECT_FALSE(v.allow);
  p.release();
}

// A policy whose name sorts first moves every other policy's index: the
// publisher tells the classifier by the catalogs' names, and the change is
// still a delta (of no Pod: the new policy selects none), its verdicts
// naming the new indices.
TEST(PolicyPublish, AnAddedPolicyRenumbersTheOthersWithoutAWholeBuild) {
  publisher_fixture f;
  policy_publisher& p = f.p;
  std::string error;
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(two_policies), error), error)) << error;
  policy_flow a_to_c{4, 6, 80, {198, 19, 1, 11}, {198, 19, 1, 13}};
  policy_verdict v;
  (*p.slot())->classifier.classify(&a_to_c, 1, &v);
  EXPECT_EQ(v.egress_isolated, 0u);  // x/all-out

  std::string more = std::string(two_policies) + R"(---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: nothing, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress]}
)";
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(more), error), error)) << error;
  const policy_table* t = *p.slot();
  EXPECT_FALSE(t->classifier.build_stats(4).whole);
  EXPECT_EQ(t->classifier.build_stats(4).changed_pods, 0u);
  p.reclaim(true);
  t->classifier.classify(&a_to_c, 1, &v);
  EXPECT_FALSE(v.allow);
  EXPECT_EQ(v.egress_isolated, 1u);  // x/all-out, after a/nothing
  p.release();
}

// `pods` Pods 198.19.2.x, each isolated for ingress by a policy of its own
// (p-N) that allows TCP on port base + N from a client /24: two rules a Pod.
std::string pods_with_policies(uint32_t pods, uint32_t changed, uint16_t base) {
  std::string out;
  for (uint32_t i = 0; i < pods; ++i) {
    const uint32_t port = (i < changed ? base : 1000) + i;
    out += fmt::format(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p-{0}, namespace: x, labels: {{pod: p-{0}}}}}\n"
        "status: {{podIP: 198.19.2.{1}}}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p-{0}, namespace: x}}\n"
        "spec: {{podSelector: {{matchLabels: {{pod: p-{0}}}}}, ingress: [{{from: [{{ipBlock: {{cidr: 198.18.9.0/24}}}}], "
        "ports: [{{port: {2}}}]}}]}}\n---\n",
        i, i + 1, port);
  }
  return out;
}

// Many Pods changed: the layers pass policy_delta_rebase_rules, so a new
// base is built off the change path (and the changed Pods folded into a
// middle meanwhile); the list published after it is done starts a middle
// over it, and the list after that is built over that (here with a policy
// added first, renumbering the others by name against the new base's
// list): a recent layer of only the Pods changed since.
TEST(PolicyPublish, ABigDeltaStartsABaseRebuildThatTheNextListTakes) {
  publisher_fixture f;
  policy_publisher& p = f.p;
  std::string error;
  constexpr uint32_t pods = 250, changed = 100;  // 200 rules in the delta
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(pods_with_policies(pods, 0, 0)), error), error)) << error;
  EXPECT_FALSE(p.rebuilding());
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(pods_with_policies(pods, changed, 2000)), error), error)) << error;
  const policy_classifier& grown = (*p.slot())->classifier;
  EXPECT_FALSE(grown.build_stats(4).whole);
  EXPECT_GT(grown.delta_rules(4), policy_delta_rebase_rules);
  ASSERT_TRUE(p.rebasing());
  EXPECT_TRUE(p.folding());  // the 100 Pods, into a middle over the old base meanwhile
  for (int i = 0; i < 10000 && !p.rebased(); ++i) rte_delay_us_sleep(1000);
  ASSERT_TRUE(p.rebased());
  // The same list again: nothing to build, and a middle over the new base
  // (nothing changed since its copy) is started.
  for (int i = 0; i < 10000 && p.folding() && !p.rebuilt(); ++i) rte_delay_us_sleep(1000);
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(pods_with_policies(pods, changed, 2000)), error), error)) << error;
  EXPECT_EQ((*p.slot())->classifier.build_stats(4).changed_pods, 0u);
  EXPECT_TRUE(p.folding());
  EXPECT_FALSE(p.rebased());
  for (int i = 0; i < 10000 && !p.rebuilt(); ++i) rte_delay_us_sleep(1000);
  ASSERT_TRUE(p.rebuilt());

  // Pod 200 changed too, and a policy whose name sorts first selects nothing.
  std::string next = pods_with_policies(pods, changed, 2000);
  next.replace(next.find("port: 1200}"), 11, "port: 3200}");
  next += "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: first, namespace: a}\n"
          "spec: {podSelector: {matchLabels: {none: none}}, policyTypes: [Ingress]}\n";
  ASSERT_TRUE(p.apply(build_policy_rule_list(compile(next), error), error)) << error;
  EXPECT_TRUE(p.folding());  // Pod 200, folded over the new base
  EXPECT_FALSE(p.rebasing());
  const policy_table* t = *p.slot();
  EXPECT_FALSE(t->classifier.build_stats(4).whole);
  EXPECT_EQ(t->classifier.build_stats(4).changed_pods, 1u);  // Pod 200 only: the others are in the new base
  EXPECT_EQ(t->classifier.delta_rules(4), 2u);
  EXPECT_EQ(t->classifier.recent_rules(4), 2u);
  EXPECT_EQ(t->classifier.middle_rules(4), 0u);
  p.reclaim(true);  // the old base goes with the tables that held it
  policy_verdict v;
  for (uint32_t i : {0u, 99u, 100u, 200u}) {
    const uint16_t port = uint16_t(i == 200 ? 3200 : i < changed ? 2000 + i : 1000 + i);
    for (uint16_t dport : {port, uint16_t(port + 1)}) {
      policy_flow to_pod{4, 6, dport, {198, 18, 9, 7}, {198, 19, 2, uint8_t(i + 1)}};
      t->classifier.classify(&to_pod, 1, &v);
      EXPECT_EQ(v.allow, dport == port) << "Pod " << i << " port " << dport;
      EXPECT_NE(v.ingress_isolated, policy_none);
      if (dport == port) {  // a/first is policy 0 now; x/p-N after it by name
        const policy_catalog* c = policy_catalog_of(*t->list, block_bytes(t->list));
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(std::string(c->names() + c->entries()[v.ingress_allow].name), fmt::format("x/p-{}", i));
      }
    }
  }
  p.release();
}

}  // namespace
}  // namespace kgw
