// `show l7` without reading a worker's live proxy: each worker counts its
// connections and copies its endpoints into shared memory between two
// bursts when asked (l7_snapshot_request in pipelines/contract/shared_state.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/contract/shared_state.h"

namespace kgw {

struct l7_snapshot {
  bool has_proxy = false;  // false: the worker runs no HTTP proxy
  proxy::proxy_summary summary{};
  std::vector<proxy::endpoint_view> endpoints;  // up to the limit asked for
};

// Asks worker `w` for its proxy's state with up to `max_endpoints` endpoints
// and waits (up to `timeout_ms`). False with `error` when the worker does
// not answer, another process holds the request slot, or memory is short.
bool snapshot_l7(shared_state& s, unsigned w, uint32_t max_endpoints, l7_snapshot& out, std::string& error,
                 unsigned timeout_ms = 2000);

}  // namespace kgw
