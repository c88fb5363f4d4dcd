// The workers' TCP stack settings from gateway.yaml (`tcp:`), for the runtime
// that creates the stacks and for the memory plan that makes room for them.
#pragma once

#include "dataplane/config/gateway_config.h"
#include "pipelines/l7/tcp/tcp_config.h"

namespace kgw {

inline constexpr unsigned max_tcp_listeners = 16;

// Everything but the MTU and the seed, which depend on the ports and the run.
inline tcp::tcp_config tcp_config_of(const gateway_config& cfg) {
  tcp::tcp_config tc;
  tc.max_connections = cfg.tcp.max_connections;
  tc.recv_buffer = cfg.tcp.recv_buffer;
  tc.send_buffer = cfg.tcp.send_buffer;
  tc.max_time_wait = cfg.tcp.max_time_wait;
  tc.syn_backlog = cfg.tcp.syn_backlog;
  tc.max_ooo_segments = cfg.tcp.max_ooo_segments;
  tc.max_listeners = max_tcp_listeners;
  return tc;
}

}  // namespace kgw
