// The requester's side of a worker's mailbox in shared memory (a
// conn_snapshot_request or tcp_probe_request): claim the slot, ring the
// worker, wait for its answer. The worker side lives in the dataplane.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kgw {

// Holds a claimed slot; releases it when it goes out of scope.
class mailbox_claim {
 public:
  // Claims the slot for this process (a slot left by a process that died is
  // taken over). On failure, error names the holder and `what` it is doing.
  static bool take(volatile int32_t& owner_pid, std::string_view what, mailbox_claim& out, std::string& error);
  mailbox_claim() = default;
  mailbox_claim(const mailbox_claim&) = delete;
  mailbox_claim& operator=(const mailbox_claim&) = delete;
  ~mailbox_claim();

 private:
  volatile int32_t* owner_ = nullptr;
};

// Rings the worker (requested = done + 1) and waits up to timeout_ms for it to
// answer (done catches up). On timeout the request is taken back and false
// returned: the caller must leave any memory it lent to the worker unfreed,
// since a late worker may still write it.
bool ask_worker(volatile uint32_t& requested, volatile uint32_t& done, unsigned worker, unsigned timeout_ms,
                std::string& error);

}  // namespace kgw
