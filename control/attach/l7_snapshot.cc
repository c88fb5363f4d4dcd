#include "control/attach/l7_snapshot.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include "control/attach/worker_mailbox.h"

namespace kgw {

bool snapshot_l7(shared_state& s, unsigned w, uint32_t max_endpoints, l7_snapshot& out, std::string& error,
                 unsigned timeout_ms) {
  if (w >= s.n_workers || w >= max_workers) {
    error = fmt::format("no worker {}", w);
    return false;
  }
  l7_snapshot_request& r = s.l7_snapshots[w];
  mailbox_claim claim;
  if (!mailbox_claim::take(r.owner_pid, "reading this worker's proxy", claim, error)) return false;
  auto* room = static_cast<proxy::endpoint_view*>(
      rte_malloc("kgw_l7_snapshot", sizeof(proxy::endpoint_view) * (max_endpoints ? max_endpoints : 1), 64));
  if (!room) {
    error = fmt::format("no shared memory for a copy of {} endpoints", max_endpoints);
    return false;
  }
  r.endpoints = room;
  r.capacity = max_endpoints;
  r.filled = 0;
  r.cursor = 0;
  r.has_proxy = 0;
  r.summary = proxy::proxy_summary{};
  // On a timeout the worker may still write into `room` later: the memory is
  // left to the dataplane rather than freed under a late writer.
  if (!ask_worker(r.requested, r.done, w, timeout_ms, error)) return false;
  out.has_proxy = r.has_proxy != 0;
  out.summary = r.summary;
  out.endpoints.assign(room, room + r.filled);
  rte_free(room);
  return true;
}

}  // namespace kgw
