// The classifier's layers (base, middle, recent: policy_classifier.h) against
// a whole build of the same rules and the rule-by-rule reference, over many
// random changes in both families, with policies added and removed
// (renumbered), each built as the primary would: a recent layer over the
// running classifier, a middle folded on the change path or in the
// background (policy_base_rebuild.h), a new base built in the background;
// background builds finishing between changes, failing, and taken over
// after more changes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pipelines/policy/policy_base_rebuild.h"
#include "pipelines/policy/policy_classifier.h"
#include "tests/unit/policy/policy_random_rules.h"

namespace kgw {
namespace {

using namespace policy_random;

// The rules and their policies' names (ids) by index, as control's catalog
// names them: a policy added before others renumbers them.
struct named_rules {
  std::vector<policy_acl_rule> rules;
  std::vector<uint32_t> ids;  // index -> the policy's name
  uint32_t next_id = 0;

  explicit named_rules(std::vector<policy_acl_rule> r, uint32_t policies) : rules(std::move(r)) {
    for (; next_id < policies; ++next_id) ids.push_back(next_id);
  }

  // A new policy at index `at` (those from `at` on move one up) selecting a
  // random Pod for ingress: isolated, and allowing one port.
  void add_policy(std::mt19937& rng, uint32_t at) {
    for (auto& r : rules) r.policy += r.policy >= at;
    ids.insert(ids.begin() + at, next_id++);
    policy_acl_rule r{};
    r.family = rng() % 2 ? 4 : 6;
    r.category = policy_ingress_isolated;
    address(r.family, rng() % n_pods, r.dst);
    r.dst_len = host_len(r.family);
    r.port_hi = 65535;
    r.policy = at;
    rules.push_back(r);
    r.category = policy_ingress_allow;
    r.proto = 6;
    r.port_lo = r.port_hi = uint16_t(rng() % 100);
    rules.push_back(r);
  }

  // Policy `at` removed: its rules go, those after it move one down.
  void remove_policy(uint32_t at) {
    std::vector<policy_acl_rule> kept;
    for (auto r : rules) {
      if (r.policy == at) continue;
      r.policy -= r.policy > at;
      kept.push_back(r);
    }
    rules = std::move(kept);
    ids.erase(ids.begin() + at);
  }
};

// Where each policy of `from` (ids by index) is now (policy_none: gone);
// empty when nothing moved.
std::vector<uint32_t> renumbering(const std::vector<uint32_t>& from, const std::vector<uint32_t>& to) {
  std::vector<uint32_t> map(from.size(), policy_none);
  bool same = from.size() == to.size();
  for (uint32_t i = 0; i < from.size(); ++i) {
    for (uint32_t j = 0; j < to.size(); ++j)
      if (to[j] == from[i]) map[i] = j;
    same = same && map[i] == i;
  }
  if (same) map.clear();
  return map;
}

// Every verdict of `c` that of a whole build of the same rules, and of the
// reference for a sample.
void expect_whole_build(const policy_classifier& c, const std::vector<policy_acl_rule>& rules,
                        const std::vector<policy_flow>& flows, const std::string& step) {
  policy_classifier whole;
  std::string why;
  ASSERT_TRUE(whole.build(rules.data(), rules.size(), why)) << why;
  std::vector<policy_verdict> got(flows.size()), want(flows.size());
  c.classify(flows.data(), uint32_t(flows.size()), got.data());
  whole.classify(flows.data(), uint32_t(flows.size()), want.data());
  size_t bad = 0;
  for (size_t i = 0; i < flows.size() && bad < 5; ++i) {
    const bool same = got[i].allow == want[i].allow && got[i].egress_allow == want[i].egress_allow &&
                      got[i].ingress_allow == want[i].ingress_allow &&
                      got[i].egress_isolated == want[i].egress_isolated &&
                      got[i].ingress_isolated == want[i].ingress_isolated;
    bad += !same;
    EXPECT_TRUE(same) << step << ": flow " << i << " family " << int(flows[i].family) << " allow " << got[i].allow
                      << " want " << want[i].allow << ", ingress " << got[i].ingress_allow << "/"
                      << got[i].ingress_isolated << " want " << want[i].ingress_allow << "/"
                      << want[i].ingress_isolated << ", egress " << got[i].egress_allow << "/"
                      << got[i].egress_isolated << " want " << want[i].egress_allow << "/" << want[i].egress_isolated;
  }
  const std::vector<policy_flow> sample(flows.begin(), flows.begin() + 300);
  expect_reference(c, rules, sample, false);
}

// Flows to and from every Pod (each direction of each), and random ones.
std::vector<policy_flow> flows_of_every_pod(std::mt19937& rng) {
  std::vector<policy_flow> flows = random_flows(rng, 1500);
  for (uint8_t family : {4, 6})
    for (uint32_t p = 0; p < n_pods; ++p) {
      policy_flow f{};
      f.family = family;
      f.proto = 6;
      f.dport = uint16_t(rng() % 105);
      address(family, p, f.dst);
      some_address(rng, family, f.src);
      flows.push_back(f);
      std::swap(f.src, f.dst);
      flows.push_back(f);
    }
  return flows;
}

// Random changes (Pods' rules, policies added and removed), each built
// the way the step's draw says, always compared with a whole build: every
// layer combination occurs in both families.
TEST(PolicyLayers, EveryLayerCombinationAnswersAsAWholeBuild) {
  for (uint32_t seed : {21u, 22u}) {
    std::mt19937 rng(seed);
    named_rules now(random_rules(rng, 1500), 40);
    auto flows = flows_of_every_pod(rng);
    auto running = std::make_unique<policy_classifier>();
    std::string why;
    ASSERT_TRUE(running->build(now.rules.data(), now.rules.size(), why)) << why;
    std::vector<uint32_t> running_ids = now.ids;

    policy_background_builds background;
    std::vector<uint32_t> fold_ids, base_ids;  // the policies of the rules each build copied
    bool seen[2][2][2] = {};               // [family 6][middle][recent]
    seen[0][0][0] = seen[1][0][0] = true;  // the base alone, as built first
    uint32_t taken = 0, folded = 0, bases = 0;
    for (int step = 0; step < 32; ++step) {
      const std::string at = "seed " + std::to_string(seed) + " step " + std::to_string(step);
      const uint32_t draw = rng() % 20;
      if (step == 0)  // many IPv4 Pods at once: past policy_delta_rebase_rules, a new base is built
        for (int pod = 0; pod < 35; ++pod) change_a_pod(rng, now.rules, 1);
      else if (draw == 0) now.add_policy(rng, rng() % uint32_t(now.ids.size() + 1));
      else if (draw == 1 && now.ids.size() > 30) now.remove_policy(rng() % uint32_t(now.ids.size()));
      else change_a_pod(rng, now.rules, step);

      // Over a finished background build, or the running classifier.
      std::unique_ptr<policy_classifier> fresh;
      if (rng() % 2) {
        fresh = background.take(why);
        ASSERT_TRUE(fresh || why.empty()) << at << ": " << why;
      }
      const std::vector<uint32_t> moved = renumbering(fresh ? fold_ids : running_ids, now.ids);
      const auto layer = step % 8 == 7 ? policy_build_layer::middle : policy_build_layer::recent;
      auto c = std::make_unique<policy_classifier>();
      ASSERT_TRUE(c->build(now.rules.data(), now.rules.size(), why, fresh ? fresh.get() : running.get(),
                           moved.empty() ? nullptr : &moved, background.running() || fresh, layer))
          << at << ": " << why;
      taken += fresh != nullptr;
      folded += c->build_stats(4).middle;
      fresh.reset();
      running = std::move(c);
      running_ids = now.ids;
      expect_whole_build(*running, now.rules, flows, at);
      if (::testing::Test::HasFailure()) return;
      for (uint8_t family : {4, 6})
        seen[family == 6][running->middle_rules(family) > 0][running->recent_rules(family) > 0] = true;

      // What the primary starts after publishing (some steps skip it, so
      // that recent layers also grow over a middle), sometimes waited for.
      if (rng() % 3) {
        const std::vector<uint32_t> base_moved =
            background.base_finished() ? renumbering(base_ids, now.ids) : std::vector<uint32_t>{};
        const auto s = background.after_publish(*running, now.rules.data(), now.rules.size(),
                                                base_moved.empty() ? nullptr : &base_moved, why);
        ASSERT_TRUE(why.empty()) << at << ": " << why;
        if (s.fold) fold_ids = now.ids;
        if (s.base) base_ids = now.ids;
        bases += s.base;
        if (rng() % 2)
          while (background.folding() && !background.fold_ready())
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (rng() % 4 == 0)
          while (background.rebasing()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    background.stop();
    for (int f = 0; f < 2; ++f)
      for (int m = 0; m < 2; ++m)
        for (int r = 0; r < 2; ++r)
          EXPECT_TRUE(seen[f][m][r]) << "seed " << seed << ": IPv" << (f ? 6 : 4) << " middle " << m << " recent " << r;
    EXPECT_GT(taken, 4u);
    EXPECT_GT(bases, 0u) << "seed " << seed;
    EXPECT_GE(folded, 3u);
  }
}

// A change over a base and a middle builds only its Pod's rules (and the
// wide ones) into the recent layer; the middle is kept. A Pod of the middle
// changed back to its base rules is answered from the recent layer.
TEST(PolicyLayers, AChangeOverAMiddleBuildsOnlyTheRecentLayer) {
  std::mt19937 rng(23);
  auto rules = random_rules(rng, 3000);
  auto flows = flows_of_every_pod(rng);
  policy_classifier base;
  std::string why;
  ASSERT_TRUE(base.build(rules.data(), rules.size(), why)) << why;
  const auto original = rules;
  for (int change = 0; change < 12; ++change) change_a_pod(rng, rules, 1);  // IPv4 Pods
  policy_classifier middle;
  ASSERT_TRUE(middle.build(rules.data(), rules.size(), why, &base, nullptr, false, policy_build_layer::middle)) << why;
  EXPECT_TRUE(middle.build_stats(4).middle);
  EXPECT_EQ(middle.recent_rules(4), 0u);
  const size_t middle_rules = middle.middle_rules(4);
  EXPECT_GT(middle_rules, 12u);
  expect_whole_build(middle, rules, flows, "middle");

  // Pod 3's egress: a new rule.
  size_t wide4 = 0;
  for (const auto& r : rules) wide4 += r.family == 4 && !policy_rule_selected(r);
  auto changed = rules;
  policy_acl_rule r{};
  r.family = 4;
  r.category = policy_egress_allow;
  address(4, 3, r.src);
  r.src_len = 32;
  r.proto = 17;
  r.port_lo = r.port_hi = 53;
  changed.push_back(r);
  size_t pod3_egress = 0;
  for (const auto& x : changed) {
    const uint8_t* self = x.family == 4 ? policy_rule_selected(x) : nullptr;
    pod3_egress += self && !policy_ingress_category(x.category) && std::memcmp(self, r.src, 4) == 0;
  }
  policy_classifier recent;
  ASSERT_TRUE(recent.build(changed.data(), changed.size(), why, &middle)) << why;
  EXPECT_FALSE(recent.build_stats(4).whole);
  EXPECT_FALSE(recent.build_stats(4).middle);
  EXPECT_EQ(recent.build_stats(4).changed_pods, 1u);
  EXPECT_EQ(recent.build_stats(4).rules_built, pod3_egress + wide4);
  EXPECT_EQ(recent.middle_rules(4), middle_rules);
  EXPECT_EQ(recent.recent_pods(6), 0u);
  expect_whole_build(recent, changed, flows, "recent");

  // Everything back to the base's rules: the middle's Pods differ from what
  // base and middle answer, so they are in the recent layer.
  policy_classifier back;
  ASSERT_TRUE(back.build(original.data(), original.size(), why, &recent)) << why;
  EXPECT_EQ(back.recent_pods(4), middle.build_stats(4).changed_pods);
  EXPECT_EQ(back.middle_rules(4), middle_rules);
  expect_whole_build(back, original, flows, "back");
  // Folded over the base: nothing differs from it.
  policy_classifier fold;
  ASSERT_TRUE(fold.build(original.data(), original.size(), why, &back, nullptr, false, policy_build_layer::middle))
      << why;
  EXPECT_EQ(fold.delta_rules(4), 0u);
  EXPECT_EQ(fold.build_stats(4).changed_pods, 0u);
  expect_whole_build(fold, original, flows, "fold");
}

// A recent layer past policy_delta_max_rules is folded into a middle on the
// change path (capped), or kept as it is while a background build is on the
// way (uncapped); a middle past it makes the build a whole one.
TEST(PolicyLayers, ARecentLayerTooBigIsFoldedOnTheChangePath) {
  std::mt19937 rng(24);
  auto rules = random_rules(rng, 8000);  // about 15 IPv4 rules a Pod
  auto flows = flows_of_every_pod(rng);
  policy_classifier base;
  std::string why;
  ASSERT_TRUE(base.build(rules.data(), rules.size(), why)) << why;
  const auto original = rules;
  for (int change = 0; change < 20; ++change) change_a_pod(rng, rules, 1);
  policy_classifier middle;
  ASSERT_TRUE(middle.build(rules.data(), rules.size(), why, &base, nullptr, false, policy_build_layer::middle)) << why;
  ASSERT_TRUE(middle.build_stats(4).middle);

  // The middle's Pods back to the base's rules and 20 others changed: more
  // than a recent layer over the middle takes, not more than a middle.
  auto more = original;
  for (int change = 0; change < 20; ++change) change_a_pod(rng, more, 1);
  policy_classifier capped, uncapped;
  ASSERT_TRUE(capped.build(more.data(), more.size(), why, &middle)) << why;
  ASSERT_TRUE(uncapped.build(more.data(), more.size(), why, &middle, nullptr, true)) << why;
  ASSERT_GT(uncapped.recent_rules(4), policy_delta_max_rules);
  EXPECT_FALSE(uncapped.build_stats(4).middle);
  EXPECT_FALSE(uncapped.build_stats(4).whole);
  EXPECT_EQ(uncapped.middle_rules(4), middle.middle_rules(4));
  EXPECT_TRUE(capped.build_stats(4).middle);
  EXPECT_EQ(capped.recent_rules(4), 0u);
  EXPECT_LE(capped.middle_rules(4), policy_delta_max_rules);
  expect_reference(capped, more, flows, false);
  expect_reference(uncapped, more, flows, false);

  // Every Pod changed: a whole build, capped or as a middle.
  auto all = random_rules(rng, 8000);
  policy_classifier whole, fold;
  ASSERT_TRUE(whole.build(all.data(), all.size(), why, &uncapped)) << why;
  ASSERT_TRUE(fold.build(all.data(), all.size(), why, &uncapped, nullptr, false, policy_build_layer::middle)) << why;
  EXPECT_TRUE(whole.build_stats(4).whole);
  EXPECT_TRUE(fold.build_stats(4).whole);
  EXPECT_EQ(whole.delta_rules(4), 0u);
  expect_reference(whole, all, flows, false);
}

// A background build that fails (a rule rte_acl refuses: a category past
// its 16) ends the build with the reason; the running classifier is
// untouched and changes go on over it, and the next background build is
// taken over as usual.
TEST(PolicyLayers, AFailedBackgroundBuildLeavesTheRunningLayers) {
  std::mt19937 rng(25);
  auto rules = random_rules(rng, 3000);
  auto flows = flows_of_every_pod(rng);
  auto running = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(running->build(rules.data(), rules.size(), why)) << why;
  change_a_pod(rng, rules, 1);
  auto c = std::make_unique<policy_classifier>();
  ASSERT_TRUE(c->build(rules.data(), rules.size(), why, running.get())) << why;
  running = std::move(c);
  ASSERT_GT(running->recent_pods(4), 0u);

  for (bool over : {true, false}) {
    auto refused = rules;
    policy_acl_rule bad{};
    bad.family = 4;
    bad.category = 20;
    address(4, 9, bad.src);
    bad.src_len = 32;
    bad.port_hi = 65535;
    refused.push_back(bad);
    policy_base_rebuild background;
    ASSERT_TRUE(background.start(refused, why, over ? running.get() : nullptr)) << why;
    EXPECT_EQ(background.building(), over ? policy_base_rebuild::kind::middle : policy_base_rebuild::kind::base);
    while (!background.ready()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    why.clear();
    EXPECT_EQ(background.take(why), nullptr);
    EXPECT_NE(why.find("rte_acl_add_rules"), std::string::npos) << why;
    EXPECT_FALSE(background.running());
    EXPECT_EQ(background.building(), policy_base_rebuild::kind::none);
    expect_whole_build(*running, rules, flows, over ? "after a failed middle" : "after a failed base");
  }

  // A change over the running classifier, then a background middle that
  // works, taken over after two more changes: the recent layer holds those.
  policy_base_rebuild background;
  ASSERT_TRUE(background.start(rules, why, running.get())) << why;
  const size_t middle_before = running->middle_rules(4);
  for (int change = 0; change < 2; ++change) {
    change_a_pod(rng, rules, 1);
    c = std::make_unique<policy_classifier>();
    ASSERT_TRUE(c->build(rules.data(), rules.size(), why, running.get(), nullptr, true)) << why;
    running = std::move(c);
    expect_reference(*running, rules, flows, false);
  }
  EXPECT_EQ(running->middle_rules(4), middle_before);
  while (!background.ready()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  auto fresh = background.take(why);
  ASSERT_NE(fresh, nullptr) << why;
  EXPECT_TRUE(fresh->build_stats(4).middle);
  change_a_pod(rng, rules, 1);
  c = std::make_unique<policy_classifier>();
  ASSERT_TRUE(c->build(rules.data(), rules.size(), why, fresh.get(), nullptr, true)) << why;
  EXPECT_GT(c->middle_rules(4), 0u);
  EXPECT_LE(c->build_stats(4).changed_pods, 2u * 3);  // the three changes since the copy, per direction
  fresh.reset();
  running = std::move(c);
  expect_reference(*running, rules, flows, false);
}

}  // namespace
}  // namespace kgw
