// The HTTP/1.1 reverse proxy on a worker's TCP stack: client connections
// accepted on the Ingress addresses, each request routed by host and path
// through the published Ingress routes (pipelines/l7/ingress), sent to a ready
// endpoint of the backend Service, and the response relayed back. Heads are
// found by a small scanner (http/head_scan.h), parsed once whole by the
// worker's one parser (http_head.h) and rewritten into fresh mbufs; bodies
// are forwarded as the mbufs they arrived in, read only as fast as the other
// side takes them.
//
// One exchange at a time per client connection (pipelined requests wait in
// order). A 101 to a request with Upgrade turns the connection into a tunnel:
// bytes spliced both ways, half-closes passed on, never pooled. Backend connections come from a per-worker keep-alive pool per
// endpoint (endpoints.h), which also keeps each endpoint's passive health.
// Timeouts run on a timer wheel of the proxy's own, driven by proxy_advance.
// Memory per client connection is its proxy_conn, preallocated; nothing is
// allocated from the heap while serving, nothing is locked or logged.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/net_types.h"
#include "pipelines/l7/connect/connect.h"
#include "pipelines/l7/http/head_scan.h"
#include "pipelines/l7/http/http_body.h"
#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/ingress/hs_database.h"
#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/proxy/access_record.h"
#include "pipelines/l7/proxy/endpoints.h"
#include "pipelines/l7/tcp/mbuf_queue.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tcp/timer_wheel.h"
#include "pipelines/l7/tls/tls_stream.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_record.h"

struct rte_mempool;

namespace kgw {

struct service_directory;
namespace proxy {
struct route_stat;
}
namespace ingress {
class route_table;
}

namespace proxy {

inline constexpr uint32_t max_trusted_proxies = 32;

// What gateway.yaml's ingress section sets (docs/gateway-config.md); the
// defaults are the documented ones.
struct proxy_settings {
  http::limits limits;                  // request line (414), header block and count (431)
  uint64_t max_request_body = 1 << 20;  // bytes (413); 0 = unlimited
  uint64_t client_header_ns = 60'000'000'000;   // a request head must arrive whole within this (408)
  uint64_t client_idle_ns = 75'000'000'000;     // keep-alive between requests; a stalled client mid-exchange
  uint64_t backend_connect_ns = 5'000'000'000;  // the handshake with an endpoint (504, or a retry)
  uint64_t backend_read_ns = 60'000'000'000;    // silence of an endpoint that owes a response (504)
  uint64_t backend_idle_ns = 60'000'000'000;    // an idle pooled backend connection is closed after this
  uint64_t tunnel_idle_ns = 3600'000'000'000;   // a tunnel (after a 101) with no byte either way is closed
  uint64_t eject_ns = 10'000'000'000;           // passive health: how long an endpoint is passed over
  uint32_t idle_per_endpoint = 32;              // idle pooled connections per endpoint and worker; 0 = no pool
  uint32_t max_attempts = 3;                    // connects per request (the first and the retries)
  uint32_t n_trusted = 0;                       // ingress.trusted_proxies
  ip_prefix trusted[max_trusted_proxies];
};

// One direction of an exchange: bytes received and not yet forwarded, the
// chain waiting for room on the other side, and where the message is.
struct proxy_half {
  tcp::mbuf_queue in;
  rte_mbuf* pending = nullptr;
  uint64_t owed = 0;  // decoded body bytes not cut off yet (queue_take found no mbuf to split)
  http::body_decoder body;
  http::head_scan scan;  // the head being received
  uint8_t phase = 0;     // proxy.cc: phase_*
  bool eof = false;      // the peer sent its FIN
  bool fin_passed = false;  // tunnels: that FIN went on to the other side
};

// A client connection (proxy_conn::state): waiting for a request head; in an
// exchange (a backend connection opening or open, or the proxy's own answer
// going out); our FIN queued, waiting for the client's end; a tunnel after a
// 101 to an Upgrade request (bytes spliced both ways, no HTTP any more).
enum : uint8_t { st_free = 0, st_head = 1, st_exchange = 2, st_closing = 3, st_tunnel = 4 };

struct proxy_conn {
  tcp::tcp_conn_id client;
  tcp::tcp_conn_id backend;
  uint64_t since_ns = 0;     // when the current wait began (a head, a connect, idleness)
  uint64_t activity_ns = 0;  // the last progress of the exchange (bytes moved either way)
  uint64_t body_bytes = 0;   // request body bytes decoded (ingress.limits.request_body_bytes)
  rte_mbuf* replay = nullptr;  // the request head as sent over a reused connection, for a retry
  ip_addr client_ip;
  uint8_t state = st_free;
  uint8_t attempts = 0;      // connects for this request
  bool in_use = false;
  bool tls = false;          // the client connection is on https_port: its I/O goes through the TLS layer
  bool connected = false;    // the backend's handshake completed
  bool reused = false;       // the backend connection came from the pool
  bool close_after = false;  // the client connection ends after this exchange
  bool answered = false;     // a response head went to the client in this exchange
  bool served = false;       // a request was answered on this connection before (idle, not first, timeout)
  bool resp_persistent = false;  // the backend connection may serve another request after this response
  bool resp_started = false;     // a response byte came from the backend in this exchange
  bool resp_final_head = false;  // the final (non-1xx) response head was parsed
  http::method req_method = http::method::other;
  bool req_upgrade = false;    // the request asked to upgrade (Upgrade forwarded): a 101 opens a tunnel
  bool req_http10 = false;     // the request is HTTP/1.0: no chunked coding and no 1xx go back to it
  bool resp_dechunk = false;   // the response's chunks are decoded for that client, its close ends the body
  uint32_t route_backend = 0;  // the route's backend index: where retries pick again
  uint32_t route_generation = 0;  // of the routes it indexes (a retry needs the same ones)
  uint32_t ep = no_endpoint;   // the endpoint entry of the backend connection
  uint32_t ep_counter = no_counter;  // the counter slot of the endpoint the request last went to
  uint32_t tried[2] = {no_endpoint, no_endpoint};  // endpoints that failed this request
  uint32_t kick_next = 0;      // the deferred-pump list (proxy.cc)
  // The request being counted (request_log.h).
  access_record* log = nullptr;  // its access log entry; nullptr: none
  uint64_t req_start_ns = 0;     // its head was whole
  uint64_t connect_start_ns = 0; // the backend connection's handshake began
  uint64_t req_bytes = 0;        // its head's bytes (the body's are body_bytes)
  uint64_t resp_bytes = 0;       // bytes sent to the client for it
  route_slot_ref stat{0, 1};     // its route's stat slot
  uint16_t status = 0;           // the final status sent for it; 0: none yet
  uint16_t client_port = 0;
  bool req_open = false;         // counted once, when it ends
  proxy_half req, resp;
};

inline constexpr uint32_t no_owner = 0xffffffffu;

// A backend connection's side, by its TCB index.
struct backend_slot {
  uint32_t owner = no_owner;    // the client connection's index; no_owner when pooled or free
  uint32_t ep = no_endpoint;    // its endpoint entry (no_endpoint: none)
  uint32_t gen = 0;             // the id's generation, while pooled
  uint32_t next = no_conn;      // the endpoint's idle list (most recent first), while pooled
  uint32_t prev = no_conn;
  uint64_t idle_since = 0;
  bool pooled = false;
};

// What the worker gives the proxy. Everything here is the worker's own.
struct proxy_worker {
  tcp::tcp_stack* stack = nullptr;
  rte_mempool* pool = nullptr;          // for rewritten heads and split segments
  proxy_conn* conns = nullptr;          // by the client connection's TCB index
  backend_slot* backends = nullptr;     // by a backend connection's TCB index
  uint32_t capacity = 0;                // the stack's max_connections
  // The addresses backend connections leave from (SNAT), by family (family
  // 0: none). Endpoints of the client's family are preferred; the other
  // family's serve when the Service has no ready one of it (or no source).
  ip_addr source_v4, source_v6;
  // Active opens on the worker's slice of tcp.connect_port_lo/hi, aimed by RSS
  // (pipelines/l7/connect); nullptr: the stack's own port choice (tests).
  const kgw::connect_lcore* connect = nullptr;
  tcp_lcore_counters* tcp_counters = nullptr;
  uint16_t listen_port = 80;            // http_port, for X-Forwarded-Port
  // HTTPS: the TLS layer of the worker's stack, whose connections tagged
  // tag_tls_client are the proxy's (their client I/O goes through tls_*);
  // nullptr: no https_port. https_port is X-Forwarded-Port over TLS and the
  // port of the 308 redirects from http_port (0: none).
  tls::tls_stream_worker* tls = nullptr;
  uint16_t https_port = 0;
  proxy_settings settings;
  uint32_t next_pick = 0;               // round robin over ready endpoints, per worker
  uint64_t now_ns = 0;                  // the worker's clock, as of proxy_advance
  uint64_t request_ids = 0;             // X-Request-ID: a counter under a per-worker key
  uint64_t id_key[2] = {0, 0};
  // The one head parser: heads are parsed whole, synchronously.
  http::head_parser* parser = nullptr;
  // Timeouts: ids 0..capacity-1 are client connections, capacity.. backend
  // connections idle in the pool.
  tcp::timer_wheel wheel;
  tcp::timer_node* wheel_nodes = nullptr;
  uint32_t* wheel_slots = nullptr;
  endpoint_table endpoints;
  uint64_t directory_number = 0;        // the directory generation the pool was last checked against
  uint32_t kick_head = 0, kick_tail = 0;  // connections to pump again (1 + index; 0: none)
  bool kicking = false;
  // The routes in use: the published block and the worker's copy of its
  // table, taken at a poll loop's start (proxy_refresh).
  const ingress_publication* pub = nullptr;
  uint64_t pub_generation = 0;
  ingress::route_table* table = nullptr;
  hs_scratch_t* scratch = nullptr;
  const service_directory* directory = nullptr;
  http_lcore_counters* counters = nullptr;
  // Per-route statistics: this worker's row of route_stat_slots slots
  // (route_stats.h); nullptr: not counted.
  route_stat* route_stats = nullptr;
  uint32_t route_stat_slots = 0;
  // Per-endpoint request counts: this worker's row of the Service counter
  // slots (lb_counter_area::http), indexed by backend_entry::counter;
  // nullptr: not counted.
  endpoint_http_counters* endpoint_http = nullptr;
  uint32_t endpoint_http_slots = 0;
  access_log_queue access;              // the access log's hand-over (no pool: no log)
};

// Tags of the stack's connections that are the proxy's.
inline constexpr uint32_t tag_client = 3;
inline constexpr uint32_t tag_backend = 4;
// A client connection of https_port: the stack's events go to the TLS layer
// (tls_on_tcp_event), the layer's (tls_poll_events) to proxy_on_event.
inline constexpr uint32_t tag_tls_client = 6;

// Allocates the per-connection state on `socket` (rte_zmalloc), the parser,
// the timer wheel, the endpoint table (max_endpoints entries) and the route
// table holder; false when memory is short. `settings` and `now_ns` first.
bool proxy_init(proxy_worker& pw, tcp::tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket,
                const proxy_settings& settings, uint32_t max_endpoints, uint64_t now_ns, uint64_t seed);
// Every connection the proxy holds aborted, its memory freed.
void proxy_release(proxy_worker& pw);
// The bytes proxy_init reserves in all, for the start-up log and the memory
// plan, and per client connection (its proxy_conn, backend slot and timers:
// what an idle keep-alive connection costs the proxy beside its TCB).
size_t proxy_memory_size(uint32_t capacity, uint32_t max_endpoints);
size_t proxy_connection_bytes();
// At the start of a poll loop: the published routes and directory as they
// are now (a new table is copied when the generation changed).
void proxy_refresh(proxy_worker& pw, const ingress_publication* pub, const service_directory* d);
// Once per poll loop, after tcp_advance: the proxy's timeouts.
void proxy_advance(proxy_worker& pw, uint64_t now_ns);
// One event of a connection tagged tag_client (or ev_accepted of the proxy's
// listener) or tag_backend; or an event of the TLS layer (pw.tls) for a
// connection tagged tag_tls_client (its ev_accepted: the handshake is done).
void proxy_on_event(proxy_worker& pw, const tcp::tcp_event& ev, uint32_t tag);

// Whether `a` lies in one of the prefixes (ingress.trusted_proxies).
bool address_trusted(const proxy_settings& s, const ip_addr& a);

}  // namespace proxy
}  // namespace kgw
