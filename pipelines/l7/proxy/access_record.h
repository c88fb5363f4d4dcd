// The access log's hand-over from a worker to the control process: one
// fixed-size record per request, taken from the worker's record pool when
// the request starts, filled in as it goes (bounded copies of the method,
// host and path; numbers), and put on the worker's ring when it ends. The
// control process (control/access_log) formats and writes the JSON line and
// gives the record back to the pool. Nothing here formats text, allocates
// or waits: an empty pool or a full ring drops the entry and counts it.
#pragma once

#include <cstdint>

struct rte_mempool;
struct rte_ring;

namespace kgw::proxy {

// Per worker: "kgw_alog_<worker>" (the ring) and "kgw_alogp_<worker>" (the
// records), created by the dataplane when ingress.access_log is set.
inline constexpr const char* access_ring_prefix = "kgw_alog_";
inline constexpr const char* access_pool_prefix = "kgw_alogp_";
inline constexpr unsigned access_records_per_worker = 4096;

enum : uint8_t {
  access_tls = 1u << 0,         // the client connection is on https_port
  access_host_cut = 1u << 1,    // host longer than the record holds
  access_path_cut = 1u << 2,    // path (request target) longer than the record holds
  access_method_cut = 1u << 3,
  access_connected = 1u << 4,   // connect_ns is a handshake's time (else: none, or a pooled connection)
  access_header = 1u << 5,      // header_ns is set: a response head came from an endpoint
  access_routed = 1u << 6,      // the route slot is a route's
  access_request_id_cut = 1u << 7,  // the client's X-Request-ID longer than the record holds
};

struct access_record {
  uint64_t end_tsc;          // rte_rdtsc when the request ended (the line's time)
  uint64_t duration_ns;      // the request head whole .. the response's last byte queued
  uint64_t connect_ns;       // the endpoint's handshake (access_connected)
  uint64_t header_ns;        // the request head whole .. the endpoint's response head (access_header)
  uint64_t bytes_in;         // the request's head and body bytes received
  uint64_t bytes_out;        // bytes sent to the client (heads as sent, bodies)
  uint64_t request_id[2];    // the X-Request-ID generated (0, 0: none made; a client's own is in client_request_id)
  uint32_t route_slot, route_epoch;  // route_stats.h
  uint16_t status;           // sent to the client; 499 when the client left before any
  uint16_t worker;
  uint16_t client_port, backend_port;
  uint8_t client_family, backend_family;  // 4 or 6; backend 0: none
  uint8_t version_minor;     // HTTP/1.x
  uint8_t flags;             // access_*
  uint8_t method_len, host_len;
  uint16_t path_len;
  uint8_t client_addr[16], backend_addr[16];
  char method[16];
  char host[128];
  char path[256];
  char client_request_id[64];  // the X-Request-ID the client sent and the proxy passed on (bounded copy)
  uint8_t client_request_id_len;
  uint8_t pad[7];
};
static_assert(sizeof(access_record) == 592);

// The X-Request-ID of a 128-bit id as request_head sends it: 32 hex digits,
// low nibble first (the log shows the same text).
inline void request_id_hex(const uint64_t id[2], char out[32]) {
  constexpr char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) out[i] = digits[(id[i / 16] >> (4 * (i % 16))) & 15];
}

// A worker's end of the hand-over: its pool and ring (nullptr: no access
// log), and whether a control process drains them now.
struct access_log_queue {
  rte_mempool* pool = nullptr;
  rte_ring* ring = nullptr;
  const volatile int32_t* reader = nullptr;  // shared_state::access_log_reader
  uint16_t worker = 0;
};

}  // namespace kgw::proxy
