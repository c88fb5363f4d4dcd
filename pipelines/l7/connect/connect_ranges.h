// Which worker owns a source port of tcp.connect_port_lo/hi: apart from
// connect.h so that the local stage can tell without the TCP stack's API.
#pragma once

#include <cstdint>

namespace kgw {

// The whole range and how it is split: the same for every worker.
struct connect_ranges {
  uint16_t lo = 0;        // tcp.connect_port_lo; span 0: no active opens
  uint16_t span = 0;      // ports per worker
  uint16_t n_workers = 1;
};

// The worker owning a reply to a SNAT address by its destination port (host
// order), or -1 when the port is not the stack's.
inline int connect_owner(const connect_ranges& r, uint16_t port) {
  if (r.span == 0 || port < r.lo) return -1;
  unsigned w = (port - r.lo) / r.span;
  return w < r.n_workers ? static_cast<int>(w) : -1;
}

}  // namespace kgw
