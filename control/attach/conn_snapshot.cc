#include "control/attach/conn_snapshot.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include "control/attach/worker_mailbox.h"

namespace kgw {

bool snapshot_connections(shared_state& s, unsigned w, uint32_t limit, conn_snapshot& out, std::string& error,
                          unsigned timeout_ms) {
  if (w >= s.n_workers || w >= max_workers || !s.conns[w]) {
    error = fmt::format("worker {} has no connection table", w);
    return false;
  }
  conn_snapshot_request& r = s.conn_snapshots[w];
  mailbox_claim claim;
  if (!mailbox_claim::take(r.owner_pid, "reading this worker's connections", claim, error)) return false;
  auto* room = static_cast<conn*>(rte_malloc("kgw_conn_snapshot", sizeof(conn) * (limit ? limit : 1), 64));
  if (!room) {
    error = fmt::format("no shared memory for a copy of {} connections", limit);
    return false;
  }
  r.entries = room;
  r.capacity = limit;
  r.filled = 0;
  r.cursor = 0;
  // On a timeout the worker may still copy into `room` later: the memory is
  // left to the dataplane rather than freed under a late writer.
  if (!ask_worker(r.requested, r.done, w, timeout_ms, error)) return false;
  out.entries.assign(room, room + r.filled);
  out.active = r.active;
  out.now_ns = r.now_ns;
  rte_free(room);
  return true;
}

}  // namespace kgw
