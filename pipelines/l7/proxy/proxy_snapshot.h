// `kgw cli show l7`: what a worker's proxy holds, as plain data a worker
// copies into shared memory when asked (l7_snapshot_request in the shared
// state). Counting reads every client connection slot, so it goes a bounded
// number of slots per poll loop, as `show conntrack`'s copy does.
#pragma once

#include <cstdint>

#include "pipelines/common/net_types.h"

namespace kgw::proxy {

struct proxy_worker;

struct proxy_summary {
  uint64_t now_ns;             // the worker's clock when the count ended
  uint64_t routes_generation;  // of the Ingress routes in use (0: none yet)
  uint16_t http_port;          // the listeners (0: off)
  uint16_t https_port;
  uint32_t clients;            // client connections the proxy holds
  uint32_t clients_waiting;    // idle between requests, or receiving a request head
  uint32_t clients_exchange;   // a request in progress (connecting, sending, relaying)
  uint32_t clients_closing;    // our FIN sent, waiting for the client's
  uint32_t clients_tunnel;     // upgraded (WebSocket): bytes spliced to the backend
  uint32_t clients_tls;        // of them, on https_port
  uint32_t backends_in_use;    // backend connections serving an exchange
  uint32_t backends_pooled;    // idle in an endpoint's keep-alive pool
  uint32_t endpoints;          // entries in the worker's endpoint table
  uint32_t endpoints_capacity;
};

// An endpoint as the worker sees it.
struct endpoint_view {
  ip_addr addr;
  uint16_t port;
  uint8_t draining;         // left its Service: its connections are not kept
  uint8_t pad;
  uint32_t in_use;          // backend connections serving an exchange
  uint32_t idle;            // pooled
  uint32_t pad2;
  uint64_t ejected_for_ns;  // passive health: passed over for this long yet (0: not ejected)
};

// Counts client connection slots from `cursor` on, at most `budget` of them,
// into `s` (zeroed by the caller before the first step). True when the count
// is complete; the other fields of `s` are filled then.
bool proxy_count_step(const proxy_worker& pw, uint32_t& cursor, uint32_t budget, proxy_summary& s);
// Copies up to `cap` endpoint entries to `out`; returns how many.
uint32_t proxy_copy_endpoints(const proxy_worker& pw, endpoint_view* out, uint32_t cap);

}  // namespace kgw::proxy
