#include "control/services/pass_sets.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace kgw {
namespace {

TEST(PassSets, ASetThatHeldAFullLoadGivesItsBucketsBackOnceSmall) {
  std::unordered_set<std::string> s;
  for (int i = 0; i < 10000; ++i) s.insert("svc" + std::to_string(i));
  size_t full = s.bucket_count();
  empty_for_next_pass(s);  // the full load's own pass: cleared, the buckets kept
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bucket_count(), full);
  s.insert("svc0");  // a one-file pass
  empty_for_next_pass(s);
  EXPECT_TRUE(s.empty());
  EXPECT_LT(s.bucket_count(), 1024u) << "the next passes no longer zero the full load's buckets";
  s.insert("svc1");
  EXPECT_TRUE(s.contains("svc1")) << "and the set still works";
}

TEST(PassSets, ASmallSetIsClearedAsUsual) {
  std::unordered_set<std::string> s{"a", "b", "c"};
  size_t buckets = s.bucket_count();
  empty_for_next_pass(s);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bucket_count(), buckets);
}

}  // namespace
}  // namespace kgw
