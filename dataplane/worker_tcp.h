// A worker's TCP stack and the services on it: what the poll loop drives once
// per iteration (worker.cc, tcp_service). Built by the runtime on the
// worker's socket, read and written by that worker only.
#pragma once

#include <cstdint>

#include "pipelines/dns/dns_tcp.h"
#include "pipelines/l7/connect/connect.h"
#include "pipelines/l7/proxy/proxy.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tls/tls_stream.h"
#include "pipelines/route/route_stage.h"

struct rte_mempool;

namespace kgw {

// What a connection of the stack serves: its tag (tcp_set_tag), and for a
// listener, what its connections will serve.
// A TLS service's connections go through the TLS layer (tls_stream) first.
// `https`: the HTTP proxy's client connections of ingress.https_port.
// `dns`: DNS over TCP on port 53 of the DNS addresses; its tag carries the
// connection's slot above the low byte (pipelines/dns/dns_tcp.h), so the
// application is the tag's low byte.
enum class tcp_app : uint8_t { none = 0, echo = 1, probe = 2, http = 3, http_backend = 4, tls_echo = 5, https = 6, dns = 7 };
static_assert(static_cast<uint32_t>(tcp_app::http) == proxy::tag_client &&
              static_cast<uint32_t>(tcp_app::http_backend) == proxy::tag_backend &&
              static_cast<uint32_t>(tcp_app::https) == proxy::tag_tls_client);

// The one `tcp connect` diagnostic a worker runs at a time
// (tcp_probe_request in the shared state; worker.cc serve_tcp_probe).
struct tcp_probe_run {
  bool active = false;
  uint32_t serving = 0;       // the request number being served
  tcp::tcp_conn_id conn;
  uint64_t start_ns = 0, deadline_ns = 0;
  bool shut = false;          // our FIN queued
  bool peer_closed = false;
};

struct worker_tcp {
  tcp::tcp_stack* stack = nullptr;
  tcp_app listener_app[16] = {};  // by listener id (tcp_settings.h: max_tcp_listeners)
  origin_route_cache routes;      // next hops of the stack's segments, by destination
  connect_lcore connect;          // active opens from the SNAT addresses
  rte_mempool* pool = nullptr;    // mbufs for data the worker itself sends (the probe's)
  tcp_probe_run probe;
  // The HTTP proxy on ingress.http_port and https_port; nullptr: not serving. It reads the
  // published Ingress routes through `ingress` (shared_state::ingress).
  proxy::proxy_worker* proxy = nullptr;
  const ingress_publication* const* ingress = nullptr;
  // TLS on the stack's connections (the proxy's on ingress.https_port, the
  // TLS echo service of ingress.tls_echo_port); nullptr: no TLS listener. Its contexts come from
  // the runtime's tls_runtime.
  tls::tls_stream_worker* tls = nullptr;
  // DNS over TCP on port 53 of the DNS addresses; nullptr: not served.
  dns::tcp_worker* dns = nullptr;
};

}  // namespace kgw
