#include "control/attach/worker_mailbox.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace kgw {

namespace {

bool alive(int32_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

bool mailbox_claim::take(volatile int32_t& owner_pid, std::string_view what, mailbox_claim& out, std::string& error) {
  auto* slot = const_cast<int32_t*>(&owner_pid);
  int32_t me = static_cast<int32_t>(getpid());
  for (int tries = 0; tries < 100; ++tries) {
    int32_t held = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if ((held == 0 || !alive(held)) &&
        __atomic_compare_exchange_n(slot, &held, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      out.owner_ = &owner_pid;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = fmt::format("another process (pid {}) is {}", __atomic_load_n(slot, __ATOMIC_ACQUIRE), what);
  return false;
}

mailbox_claim::~mailbox_claim() {
  if (owner_) __atomic_store_n(const_cast<int32_t*>(owner_), 0, __ATOMIC_RELEASE);
}

bool ask_worker(volatile uint32_t& requested, volatile uint32_t& done, unsigned worker, unsigned timeout_ms,
                std::string& error) {
  auto* req = const_cast<uint32_t*>(&requested);
  auto* fin = const_cast<uint32_t*>(&done);
  uint32_t want = __atomic_load_n(fin, __ATOMIC_ACQUIRE) + 1;
  __atomic_store_n(req, want, __ATOMIC_RELEASE);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (__atomic_load_n(fin, __ATOMIC_ACQUIRE) != want) {
    if (std::chrono::steady_clock::now() > deadline) {
      __atomic_store_n(req, want - 1, __ATOMIC_RELEASE);
      error = fmt::format("worker {} did not answer within {} ms", worker, timeout_ms);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace kgw
