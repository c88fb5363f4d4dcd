// The classifier against a rule-by-rule reference over random rules and flows
// (with wide rules that select no single address), built whole and as deltas
// over a base; and what a build with the running classifier as `previous`
// builds: only the changed Pods' rules, until the delta is too big.
#include <gtest/gtest.h>

#include <algorithm>
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

TEST(PolicyDelta, WholeBuildSameVerdictsAsRuleByRule) {
  for (uint32_t seed : {1u, 2u}) {
    std::mt19937 rng(seed);
    auto rules = random_rules(rng, 3000);
    policy_classifier c;
    std::string why;
    ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
    EXPECT_TRUE(c.build_stats(4).whole);
    // Bursts of every length up to past a chunk, as workers pass them.
    auto flows = random_flows(rng, 3000);
    expect_reference(c, rules, flows);
    for (uint32_t len : {1u, 2u, 7u, 32u, 63u, 64u, 65u}) {
      std::vector<policy_flow> part(flows.begin(), flows.begin() + len);
      expect_reference(c, rules, part, false);
    }
  }
}

// Random changes to random Pods' rules (added, removed, ports moved), each
// built over the running classifier: a delta each time until it is too big,
// and the verdicts always those of the rules now.
TEST(PolicyDelta, DeltasSameVerdictsAsRuleByRule) {
  std::mt19937 rng(3);
  auto rules = random_rules(rng, 3000);
  auto running = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(running->build(rules.data(), rules.size(), why)) << why;
  auto flows = random_flows(rng, 1500);
  uint32_t deltas = 0, wholes = 0;
  for (int change = 0; change < 40; ++change) {
    const uint8_t family = change_a_pod(rng, rules, change);

    auto c = std::make_unique<policy_classifier>();
    ASSERT_TRUE(c->build(rules.data(), rules.size(), why, running.get())) << why;
    (c->build_stats(family).whole ? wholes : deltas)++;
    running = std::move(c);  // the previous one goes: its base lives on in this one
    expect_reference(*running, rules, flows);
  }
  EXPECT_GT(deltas, 30u);
  EXPECT_LE(wholes, 2u);
}

TEST(PolicyDelta, ChangeBuildsOnlyItsPodsRules) {
  std::mt19937 rng(5);
  auto rules = random_rules(rng, 3000);
  auto c = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(c->build(rules.data(), rules.size(), why)) << why;
  const size_t n4 = c->rules(4), n6 = c->rules(6);
  EXPECT_TRUE(c->build_stats(4).whole);
  EXPECT_EQ(c->build_stats(4).rules_built, n4);

  // The same rules in another order: nothing changed, nothing built.
  auto shuffled = rules;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto same = std::make_unique<policy_classifier>();
  ASSERT_TRUE(same->build(shuffled.data(), shuffled.size(), why, c.get())) << why;
  for (uint8_t family : {4, 6}) {
    EXPECT_FALSE(same->build_stats(family).whole);
    EXPECT_EQ(same->build_stats(family).changed_pods, 0u);
    EXPECT_EQ(same->build_stats(family).rules_built, 0u);
  }

  // Pod 7 isolated for ingress and allowed TCP 4242: only its ingress rules
  // (and the wide ones, which may match its flows) are built.
  auto changed = rules;
  const uint32_t pod = 7;
  policy_acl_rule r{};
  r.family = 4;
  r.category = policy_ingress_isolated;
  address(4, pod, r.dst);
  r.dst_len = 32;
  r.port_hi = 65535;
  changed.push_back(r);
  r.category = policy_ingress_allow;
  r.proto = 6;
  r.port_lo = r.port_hi = 4242;
  changed.push_back(r);
  size_t pod_ingress = 0, wide4 = 0;
  for (const auto& x : changed) {
    if (x.family != 4) continue;
    const uint8_t* self = policy_rule_selected(x);
    wide4 += !self;
    pod_ingress += self && policy_ingress_category(x.category) && std::memcmp(self, r.dst, 4) == 0;
  }
  auto next = std::make_unique<policy_classifier>();
  ASSERT_TRUE(next->build(changed.data(), changed.size(), why, c.get())) << why;
  EXPECT_FALSE(next->build_stats(4).whole);
  EXPECT_EQ(next->build_stats(4).changed_pods, 1u);
  EXPECT_EQ(next->build_stats(4).rules_built, pod_ingress + wide4);
  EXPECT_EQ(next->build_stats(6).rules_built, 0u);
  EXPECT_EQ(next->rules(4), n4 + 2);
  EXPECT_EQ(next->rules(6), n6);

  policy_flow f{4, 6, 4242, {198, 19, 5, 5}, {}};  // a client no rule selects
  address(4, pod, f.dst);
  policy_verdict v;
  next->classify(&f, 1, &v);
  EXPECT_TRUE(v.allow);
  EXPECT_EQ(v.allow, reference(changed, f).allow);
  c->classify(&f, 1, &v);
  EXPECT_EQ(v.allow, reference(rules, f).allow);

  // The old classifiers go (the workers moved on); the new one still holds
  // the base it shares with them.
  c.reset();
  same.reset();
  auto flows = random_flows(rng, 2000);
  flows.push_back(f);
  expect_reference(*next, changed, flows);

  // Back to the rules of the base: no Pod differs from it any more.
  policy_classifier back;
  ASSERT_TRUE(back.build(rules.data(), rules.size(), why, next.get())) << why;
  EXPECT_FALSE(back.build_stats(4).whole);
  EXPECT_EQ(back.build_stats(4).changed_pods, 0u);
  expect_reference(back, rules, flows);
}

// A new base built on a thread from the rules of change 10, while changes go
// on as (uncapped) deltas over the old one; change 25 is built over the new
// base, with a delta of what changed since change 10 only. The verdicts are
// always those of the rules now.
TEST(PolicyDelta, BackgroundRebuildSwappedInMidSequence) {
  std::mt19937 rng(8);
  auto rules = random_rules(rng, 3000);
  auto running = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(running->build(rules.data(), rules.size(), why)) << why;
  auto flows = random_flows(rng, 1500);
  policy_base_rebuild rebuild;
  std::string none;
  EXPECT_EQ(rebuild.take(none), nullptr);  // none started
  uint32_t before_swap = 0;
  size_t copied = 0;
  for (int change = 0; change < 40; ++change) {
    const uint8_t family = change_a_pod(rng, rules, change);
    std::unique_ptr<policy_classifier> fresh;
    if (change == 25) {
      while (!(fresh = rebuild.take(why)) && why.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ASSERT_NE(fresh, nullptr) << why;
      EXPECT_FALSE(rebuild.running());
      EXPECT_EQ(fresh->rules(4) + fresh->rules(6), copied);
      EXPECT_TRUE(fresh->build_stats(4).whole);
    }
    auto c = std::make_unique<policy_classifier>();
    ASSERT_TRUE(c->build(rules.data(), rules.size(), why, fresh ? fresh.get() : running.get(), nullptr,
                         rebuild.running() || fresh))
        << why;
    EXPECT_FALSE(c->build_stats(family).whole) << "change " << change;
    const uint32_t pods = c->build_stats(4).changed_pods + c->build_stats(6).changed_pods;
    if (change == 24) before_swap = pods;
    if (change == 25) {
      EXPECT_LT(pods, before_swap);
      // Changed since the copy; a Pod changed back to its old rules would not count.
      EXPECT_LE(c->build_stats(4).changed_pods, 2 * 15u);  // changes 11..25, per direction
    }
    fresh.reset();  // its base lives on in c
    running = std::move(c);
    expect_reference(*running, rules, flows);
    if (change == 10) {
      copied = rules.size();
      ASSERT_TRUE(rebuild.start(rules, why)) << why;
      EXPECT_TRUE(rebuild.running());
      EXPECT_FALSE(rebuild.start(rules, why));  // one at a time
    }
  }
  // A rebuild left running at the end is joined and dropped.
  ASSERT_TRUE(rebuild.start(rules, why)) << why;
  rebuild.stop();
  EXPECT_FALSE(rebuild.running());
}

TEST(PolicyDelta, BigChangeOrWideRuleChangeBuildsWhole) {
  std::mt19937 rng(6);
  auto rules = random_rules(rng, 3000);
  policy_classifier c;
  std::string why;
  ASSERT_TRUE(c.build(rules.data(), rules.size(), why)) << why;
  // Every Pod's rules differ: more than a delta takes.
  auto more = random_rules(rng, 3000);
  policy_classifier next;
  ASSERT_TRUE(next.build(more.data(), more.size(), why, &c)) << why;
  EXPECT_TRUE(next.build_stats(4).whole);
  EXPECT_EQ(next.build_stats(4).rules_built, next.rules(4));
  expect_reference(next, more, random_flows(rng, 2000));

  // Most Pods' rules changed, no wide rule: whole, unless a new base is on
  // the way (uncapped), when it is all a delta, with the same verdicts.
  auto many = rules;
  for (int change = 0; change < 300; ++change) change_a_pod(rng, many, change);
  policy_classifier capped, uncapped;
  ASSERT_TRUE(capped.build(many.data(), many.size(), why, &c)) << why;
  ASSERT_TRUE(uncapped.build(many.data(), many.size(), why, &c, nullptr, true)) << why;
  EXPECT_TRUE(capped.build_stats(4).whole);
  EXPECT_FALSE(uncapped.build_stats(4).whole);
  EXPECT_GT(uncapped.delta_rules(4), policy_delta_max_rules);
  auto flows = random_flows(rng, 2000);
  expect_reference(capped, many, flows);
  expect_reference(uncapped, many, flows);

  // One wide rule more: wide rules are in the base, so the base is built.
  auto wide = more;
  policy_acl_rule w{};
  w.family = 4;
  w.category = policy_ingress_allow;
  w.dst[0] = 198, w.dst[1] = 18;
  w.dst_len = 16;
  w.port_hi = 65535;
  w.policy = 0;
  wide.push_back(w);
  policy_classifier after;
  ASSERT_TRUE(after.build(wide.data(), wide.size(), why, &next)) << why;
  EXPECT_TRUE(after.build_stats(4).whole);
  EXPECT_FALSE(after.build_stats(6).whole);
  expect_reference(after, wide, random_flows(rng, 2000));
}

// A policy added before others (namespace/name order) renumbers them: the
// base's answers are renamed, and only the Pod the new policy selects is
// built; removing it again builds that Pod alone too.
TEST(PolicyDelta, PoliciesRenumberedByAnAddedOrRemovedPolicy) {
  std::mt19937 rng(7);
  auto rules = random_rules(rng, 3000);
  auto c = std::make_unique<policy_classifier>();
  std::string why;
  ASSERT_TRUE(c->build(rules.data(), rules.size(), why)) << why;

  constexpr uint32_t added = 20;  // the new policy's index; 20 and up move one on
  std::vector<uint32_t> up(40);
  for (uint32_t i = 0; i < up.size(); ++i) up[i] = i < added ? i : i + 1;
  auto with = rules;
  for (auto& r : with) r.policy = up[r.policy];
  policy_acl_rule r{};
  r.family = 4;
  r.category = policy_ingress_allow;
  r.proto = 17;
  r.port_lo = r.port_hi = 53;
  address(4, 5, r.dst);
  r.dst_len = 32;
  r.policy = added;
  with.push_back(r);
  auto next = std::make_unique<policy_classifier>();
  ASSERT_TRUE(next->build(with.data(), with.size(), why, c.get(), &up)) << why;
  EXPECT_FALSE(next->build_stats(4).whole);
  EXPECT_EQ(next->build_stats(4).changed_pods, 1u);
  EXPECT_FALSE(next->build_stats(6).whole);
  EXPECT_EQ(next->build_stats(6).changed_pods, 0u);
  auto flows = random_flows(rng, 2000);
  expect_reference(*next, with, flows);  // the policies named are the new indices

  // Without the renumbering, every Pod of a moved policy differs: a whole build.
  policy_classifier blind;
  ASSERT_TRUE(blind.build(with.data(), with.size(), why, c.get())) << why;
  EXPECT_TRUE(blind.build_stats(4).whole);

  // Removed again, over the classifier that added it (its base still the first).
  std::vector<uint32_t> down(41);
  for (uint32_t i = 0; i < down.size(); ++i) down[i] = i < added ? i : i == added ? policy_none : i - 1;
  c.reset();
  policy_classifier back;
  ASSERT_TRUE(back.build(rules.data(), rules.size(), why, next.get(), &down)) << why;
  EXPECT_FALSE(back.build_stats(4).whole);
  EXPECT_EQ(back.build_stats(4).changed_pods, 0u);  // the base's rules again, as they were
  expect_reference(back, rules, flows);

  // Policies that swap places cannot keep the base's priorities: whole.
  std::vector<uint32_t> swapped(41);
  for (uint32_t i = 0; i < swapped.size(); ++i) swapped[i] = i;
  std::swap(swapped[3], swapped[4]);
  auto swapped_rules = with;
  for (auto& x : swapped_rules) x.policy = swapped[x.policy];
  policy_classifier reordered;
  ASSERT_TRUE(reordered.build(swapped_rules.data(), swapped_rules.size(), why, next.get(), &swapped)) << why;
  EXPECT_TRUE(reordered.build_stats(4).whole);
  expect_reference(reordered, swapped_rules, flows);
}

}  // namespace
}  // namespace kgw
