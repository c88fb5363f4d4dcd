#include "control/attach/conn_snapshot.h"

#include <rte_malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace kgw {

namespace {

bool alive(int32_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Claims the slot for this process; a slot left by a process that died is taken over.
bool claim(conn_snapshot_request& r, std::string& error) {
  int32_t me = static_cast<int32_t>(getpid());
  for (int tries = 0; tries < 100; ++tries) {
    int32_t held = __atomic_load_n(&r.owner_pid, __ATOMIC_ACQUIRE);
    if ((held == 0 || !alive(held)) &&
        __atomic_compare_exchange_n(&r.owner_pid, &held, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = fmt::format("another process (pid {}) is reading this worker's connections", r.owner_pid);
  return false;
}

}  // namespace

bool snapshot_connections(shared_state& s, unsigned w, uint32_t limit, conn_snapshot& out, std::string& error,
                          unsigned timeout_ms) {
  if (w >= s.n_workers || w >= max_workers || !s.conns[w]) {
    error = fmt::format("worker {} has no connection table", w);
    return false;
  }
  conn_snapshot_request& r = s.conn_snapshots[w];
  if (!claim(r, error)) return false;
  struct release_slot {
    conn_snapshot_request& r;
    ~release_slot() { __atomic_store_n(&r.owner_pid, 0, __ATOMIC_RELEASE); }
  } release{r};
  auto* room = static_cast<conn*>(rte_malloc("kgw_conn_snapshot", sizeof(conn) * (limit ? limit : 1), 64));
  if (!room) {
    error = fmt::format("no shared memory for a copy of {} connections", limit);
    return false;
  }
  r.entries = room;
  r.capacity = limit;
  r.filled = 0;
  r.cursor = 0;
  uint32_t want = r.done + 1;
  __atomic_store_n(&r.requested, want, __ATOMIC_RELEASE);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) != want) {
    if (std::chrono::steady_clock::now() > deadline) {
      // The worker may still copy into `room` later: take the request back
      // first, and leave the memory to the dataplane rather than free it under
      // a late writer.
      __atomic_store_n(&r.requested, r.done, __ATOMIC_RELEASE);
      error = fmt::format("worker {} did not answer within {} ms", w, timeout_ms);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  out.entries.assign(room, room + r.filled);
  out.active = r.active;
  out.now_ns = r.now_ns;
  rte_free(room);
  return true;
}

}  // namespace kgw
