#include "dataplane/thread_priority.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <thread>

namespace kgw {
namespace {

int own_nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

// In a thread of its own: the test's other threads keep their priority.
TEST(ThreadPriority, TheCallingThreadAndThoseItStartsRunAtMinusThePriority) {
  if (geteuid() != 0) GTEST_SKIP() << "raising a priority needs CAP_SYS_NICE";
  int main_before = own_nice();
  int mine = 1, child = 1;
  bool ok = false;
  std::thread t([&] {
    std::string why;
    ok = raise_thread_priority(5, why);
    mine = own_nice();
    std::thread([&] { child = own_nice(); }).join();
  });
  t.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(mine, -5);
  EXPECT_EQ(child, -5) << "a thread started after inherits it";
  EXPECT_EQ(own_nice(), main_before) << "only the calling thread";
}

}  // namespace
}  // namespace kgw
