// Label selectors as Kubernetes matches them, and address prefixes less
// their exceptions.
#include <gtest/gtest.h>

#include "control/policy/label_selector.h"
#include "control/policy/prefix_set.h"

namespace kgw::policy {
namespace {

TEST(LabelSelector, EmptySelectsEverything) {
  EXPECT_TRUE(label_selector{}.matches({}));
  EXPECT_TRUE(label_selector{}.matches({{"a", "b"}}));
}

TEST(LabelSelector, MatchLabelsAndExpressionsAreAnded) {
  label_selector s;
  s.match_labels = {{"pod", "a"}};
  s.match_expressions = {{"env", selector_op::in, {"prod", "qa"}}};
  EXPECT_TRUE(s.matches({{"pod", "a"}, {"env", "qa"}}));
  EXPECT_FALSE(s.matches({{"pod", "a"}, {"env", "dev"}}));
  EXPECT_FALSE(s.matches({{"pod", "b"}, {"env", "qa"}}));
  EXPECT_FALSE(s.matches({{"pod", "a"}}));
}

TEST(LabelSelector, Operators) {
  auto one = [](selector_op op, std::vector<std::string> v) {
    label_selector s;
    s.match_expressions = {{"k", op, std::move(v)}};
    return s;
  };
  EXPECT_TRUE(one(selector_op::not_in, {"x"}).matches({}));  // absent key: not in the set
  EXPECT_TRUE(one(selector_op::not_in, {"x"}).matches({{"k", "y"}}));
  EXPECT_FALSE(one(selector_op::not_in, {"x"}).matches({{"k", "x"}}));
  EXPECT_TRUE(one(selector_op::exists, {}).matches({{"k", ""}}));
  EXPECT_FALSE(one(selector_op::exists, {}).matches({{"j", "x"}}));
  EXPECT_TRUE(one(selector_op::does_not_exist, {}).matches({{"j", "x"}}));
  EXPECT_FALSE(one(selector_op::does_not_exist, {}).matches({{"k", "x"}}));
  EXPECT_FALSE(one(selector_op::in, {"x"}).matches({}));
}

std::vector<std::string> strings(const std::vector<ip_prefix>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(to_string(p));
  return out;
}

TEST(PrefixSet, SubtractsExceptions) {
  auto cidr = *parse_prefix("198.18.0.0/22");
  EXPECT_EQ(strings(subtract_prefixes(cidr, {})), std::vector<std::string>{"198.18.0.0/22"});
  EXPECT_EQ(strings(subtract_prefixes(cidr, {*parse_prefix("198.18.1.0/24")})),
            (std::vector<std::string>{"198.18.0.0/24", "198.18.2.0/23"}));
  EXPECT_TRUE(subtract_prefixes(cidr, {cidr}).empty());
  auto holes = subtract_prefixes(*parse_prefix("2001:db8::/32"), {*parse_prefix("2001:db8::1/128")});
  EXPECT_EQ(holes.size(), 96u);
  for (const auto& h : holes) EXPECT_FALSE(prefix_contains(h, *parse_ip("2001:db8::1")));
  EXPECT_TRUE(prefix_contains(holes.back(), *parse_ip("2001:db8:8000::1")));
}

}  // namespace
}  // namespace kgw::policy
