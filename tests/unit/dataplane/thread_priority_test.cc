#include "dataplane/thread_priority.h"

#include <gtest/gtest.h>

#include <sched.h>
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

TEST(ThreadPriority, FifoForTheCallingThreadAloneAndBackToTimeSharingWithItsNice) {
  if (geteuid() != 0) GTEST_SKIP() << "a real-time policy needs CAP_SYS_NICE";
  int policy_in = -1, prio_in = -1, policy_back = -1, nice_back = 1, other_policy = -1;
  bool fifo = false, back = false, again = false;
  std::thread t([&] {
    std::string why;
    ASSERT_TRUE(raise_thread_priority(3, why)) << why;
    fifo = set_thread_fifo(control_fifo_priority, why);
    policy_in = sched_getscheduler(0);
    sched_param p{};
    sched_getparam(0, &p);
    prio_in = p.sched_priority;
    back = set_thread_time_shared(why);
    policy_back = sched_getscheduler(0);
    nice_back = own_nice();
    again = set_thread_time_shared(why);
  });
  t.join();
  other_policy = sched_getscheduler(0);
  EXPECT_TRUE(fifo);
  EXPECT_EQ(policy_in, SCHED_FIFO);
  EXPECT_EQ(prio_in, control_fifo_priority);
  EXPECT_TRUE(back);
  EXPECT_EQ(policy_back, SCHED_OTHER);
  EXPECT_EQ(nice_back, -3) << "the nice value outlives the real-time spell";
  EXPECT_TRUE(again) << "already time-shared: nothing to do";
  EXPECT_EQ(other_policy, SCHED_OTHER) << "only the calling thread";
}

TEST(ThreadPriority, AFifoPriorityOutOfRangeIsRefusedWithTheReason) {
  std::string why;
  bool ok = true;
  std::thread([&] { ok = set_thread_fifo(100, why); }).join();
  EXPECT_FALSE(ok);
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace kgw
