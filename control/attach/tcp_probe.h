// `kgw cli tcp connect|transfer`: asks one worker to open a connection from
// its SNAT address, send bytes and return what comes back, through its
// tcp_probe_request in the shared state (pipelines/contract/shared_state.h),
// the way conn_snapshot asks for a copy of a table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/contract/shared_state.h"

namespace kgw {

struct tcp_probe_ask {
  unsigned worker = 0;
  ip_addr addr;
  uint16_t port = 0;
  std::string send;            // bytes to send once connected
  bool shutdown = true;        // half-close after them
  uint64_t recv_cap = 65536;   // bytes of the answer kept
  unsigned timeout_ms = 3000;  // the worker's deadline, connection included
};

struct tcp_probe_answer {
  tcp_probe_status status = probe_unreachable;
  bool connected = false, steered = false;
  ip_addr local;
  uint16_t local_port = 0;
  uint64_t sent = 0, discarded = 0;
  uint64_t connect_ns = 0, total_ns = 0;
  std::string received;
};

const char* probe_status_text(tcp_probe_status s);

// False with `error` when the worker cannot be asked (no such worker, no TCP
// stack, the slot held by another process, no shared memory, no answer).
bool run_tcp_probe(shared_state& s, const tcp_probe_ask& ask, tcp_probe_answer& out, std::string& error);

}  // namespace kgw
