#include "dataplane/command_bell.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kgw {
namespace {

using clock_type = std::chrono::steady_clock;

// The waits below are long (10 s): a bell that did not wake its waiter shows
// as a wait of that length, not as a small difference in time.
constexpr unsigned long_wait_us = 10'000'000;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

TEST(CommandBell, ARingAfterTheMarkCutsTheWaitShort) {
  uint32_t bell = 0;
  uint32_t mark = bell_mark(&bell);
  bell_ring(&bell);
  auto t = clock_type::now();
  bell_wait(&bell, mark, long_wait_us);
  EXPECT_LT(seconds_since(t), 5.0);
  EXPECT_EQ(bell_mark(&bell), mark + 1);
}

TEST(CommandBell, AWaiterIsWokenByAnotherThread) {
  uint32_t bell = 0;
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    uint32_t mark = bell_mark(&bell);
    while (bell_mark(&bell) == mark) bell_wait(&bell, mark, long_wait_us);
    woke = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // most likely asleep by now; either way it must wake
  auto t = clock_type::now();
  bell_ring(&bell);
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(seconds_since(t), 5.0);
}

TEST(CommandBell, WithoutARingTheWaitEndsAtItsTimeout) {
  uint32_t bell = 7;
  auto t = clock_type::now();
  bell_wait(&bell, bell_mark(&bell), 1000);
  EXPECT_LT(seconds_since(t), 5.0);
  EXPECT_EQ(bell_mark(&bell), 7u);
}

// The dataplane and control are two processes: the bell lives in memory both
// map, and a ring in one must wake a waiter in the other.
TEST(CommandBell, AWaiterInAnotherProcessIsWoken) {
  void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* bell = static_cast<uint32_t*>(mem);
  *bell = 0;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto t = clock_type::now();
    while (bell_mark(bell) == 0 && seconds_since(t) < 20) bell_wait(bell, 0, long_wait_us);
    _exit(bell_mark(bell) != 0 && seconds_since(t) < 5 ? 0 : 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bell_ring(bell);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  munmap(mem, 4096);
}

}  // namespace
}  // namespace kgw
