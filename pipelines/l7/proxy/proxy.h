// The HTTP/1.1 reverse proxy on a worker's TCP stack: client connections
// accepted on the Ingress addresses, each request routed by host and path
// through the published Ingress routes (pipelines/l7/ingress), sent to a ready
// endpoint of the backend Service over a connection of its own, and the
// response relayed back. Heads are parsed in place (pipelines/l7/http) and
// rewritten into fresh mbufs; bodies are forwarded as the mbufs they arrived
// in, read only as fast as the other side takes them.
//
// One exchange at a time per client connection (pipelined requests wait in
// order), one backend connection per request (no pool yet). Memory per client
// connection is its proxy_conn, preallocated; nothing is allocated from the
// heap while serving, nothing is locked or logged.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/net_types.h"
#include "pipelines/l7/connect/connect.h"
#include "pipelines/l7/http/http_body.h"
#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/ingress/hs_database.h"
#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/tcp/mbuf_queue.h"
#include "pipelines/l7/tcp/tcp_stack.h"

struct rte_mempool;

namespace kgw {

struct service_directory;
namespace ingress {
class route_table;
}

namespace proxy {

// One direction of an exchange: bytes received and not yet forwarded, the
// chain waiting for room on the other side, and where the message is.
struct proxy_half {
  tcp::mbuf_queue in;
  rte_mbuf* pending = nullptr;
  http::body_decoder body;
  uint8_t phase = 0;  // proxy.cc: phase_*
  bool eof = false;   // the peer sent its FIN
};

struct proxy_conn {
  tcp::tcp_conn_id client;
  tcp::tcp_conn_id backend;
  bool in_use = false;
  bool connected = false;     // the backend's handshake completed
  bool close_after = false;   // the client connection ends after this exchange
  bool closing = false;       // our FIN is queued: only the client's end is awaited
  bool answered = false;      // a response head went to the client in this exchange
  http::method req_method = http::method::other;
  ip_addr client_ip;
  proxy_half req, resp;
  http::head_parser parser;  // the request head, then the response head
};

// What the worker gives the proxy. Everything here is the worker's own.
struct proxy_worker {
  tcp::tcp_stack* stack = nullptr;
  rte_mempool* pool = nullptr;          // for rewritten heads and split segments
  proxy_conn* conns = nullptr;          // by the client connection's TCB index
  uint32_t* owner = nullptr;            // by a backend connection's TCB index: its client's index
  uint32_t capacity = 0;                // the stack's max_connections
  ip_addr source;                       // the address backend connections leave from (SNAT)
  // Active opens on the worker's slice of tcp.connect_port_lo/hi, aimed by RSS
  // (pipelines/l7/connect); nullptr: the stack's own port choice (tests).
  const kgw::connect_lcore* connect = nullptr;
  tcp_lcore_counters* tcp_counters = nullptr;
  uint16_t listen_port = 80;            // for X-Forwarded-Port
  http::limits limits;
  uint32_t next_pick = 0;               // round robin over ready endpoints, per worker
  // The routes in use: the published block and the worker's copy of its
  // table, taken at a poll loop's start (proxy_refresh).
  const ingress_publication* pub = nullptr;
  uint64_t pub_generation = 0;
  ingress::route_table* table = nullptr;
  hs_scratch_t* scratch = nullptr;
  const service_directory* directory = nullptr;
  http_lcore_counters* counters = nullptr;
};

// Tags of the stack's connections that are the proxy's.
inline constexpr uint32_t tag_client = 3;
inline constexpr uint32_t tag_backend = 4;

// Allocates the per-connection state on `socket` (rte_zmalloc) and the route
// table holder; false when memory is short.
bool proxy_init(proxy_worker& pw, tcp::tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket);
void proxy_release(proxy_worker& pw);
// At the start of a poll loop: the published routes and directory as they
// are now (a new table is copied when the generation changed).
void proxy_refresh(proxy_worker& pw, const ingress_publication* pub, const service_directory* d);
// One event of a connection tagged tag_client (or ev_accepted of the proxy's
// listener) or tag_backend.
void proxy_on_event(proxy_worker& pw, const tcp::tcp_event& ev, uint32_t tag);

}  // namespace proxy
}  // namespace kgw
