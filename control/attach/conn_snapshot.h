// `show conntrack` without reading a worker's live table: each worker copies
// its own table into shared memory between two bursts when asked
// (conn_snapshot_request in pipelines/contract/shared_state.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/contract/shared_state.h"
#include "pipelines/conntrack/conn_table.h"

namespace kgw {

struct conn_snapshot {
  std::vector<conn> entries;  // up to the limit asked for, in table order
  uint32_t active = 0;        // connections in the table when the copy ended
  uint64_t now_ns = 0;        // the worker's clock then (entries' times are on it)
};

// Asks worker `w` for a copy of up to `limit` of its connections and waits
// (up to `timeout_ms`) for it. False with `error` when the worker does not
// answer, another process holds the request slot, or memory is short.
bool snapshot_connections(shared_state& s, unsigned w, uint32_t limit, conn_snapshot& out, std::string& error,
                          unsigned timeout_ms = 2000);

}  // namespace kgw
