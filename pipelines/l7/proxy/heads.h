// The heads the proxy writes: requests as forwarded to endpoints, responses
// as relayed to clients, and its own short error answers. Each is written
// into fresh mbufs of the worker's pool (the only copy the proxy makes,
// bounded by the parser's limits). Internal to pipelines/l7/proxy.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "pipelines/common/net_types.h"
#include "pipelines/l7/http/http_head.h"

struct rte_mbuf;
struct rte_mempool;

namespace kgw::proxy {

struct proxy_settings;

// Appends bytes to a chain of mbufs from `pool`; finish() gives the chain,
// or nullptr (and frees what was written) when the pool ran dry. A head is
// some fifty puts of a few bytes: each is a copy to `at` while the current
// mbuf has room, the lengths written once at finish().
struct writer {
  rte_mempool* pool;
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  char* at = nullptr;  // where the next byte goes, in `last`
  size_t room = 0;     // bytes left after `at`
  bool failed = false;

  void put(const char* p, size_t n) {
    if (n - 1 < room) {  // 1 <= n <= room (n = 0 goes round: put_more does nothing)
      std::memcpy(at, p, n);
      at += n;
      room -= n;
      return;
    }
    put_more(p, n);
  }
  void put(std::string_view s) { put(s.data(), s.size()); }
  void put_more(const char* p, size_t n);  // into new mbufs
  void put_span(http::cursor base, http::span s);
  void put_uint(uint64_t v);
  void put_ip(const ip_addr& a);
  rte_mbuf* finish();
};

// What the request head needs besides the parsed head.
struct request_context {
  ip_addr client;
  uint16_t listen_port = 80;  // the port the request came in on (X-Forwarded-Port)
  bool https = false;         // it came over TLS (X-Forwarded-Proto)
  bool trusted = false;       // the client is in ingress.trusted_proxies
  bool keep_alive = false;    // the backend connection may serve more requests after this one
  bool upgrade = false;       // an Upgrade request (head.upgrade): Upgrade and Connection: upgrade are kept
  uint64_t request_id[2] = {0, 0};  // X-Request-ID when the request has none (128 bits, as hex)
};

// The request as the endpoint gets it: request line as sent; hop-by-hop
// fields dropped; X-Forwarded-*, X-Real-IP and X-Request-ID set
// (docs/proxy.md "Heads").
rte_mbuf* request_head(rte_mempool* pool, const http::head& h, const request_context& ctx,
                       const proxy_settings& settings);
// The response as the client gets it: HTTP/1.1, hop-by-hop fields dropped,
// Connection: keep-alive or close for final responses; a 101 that switches
// (head.upgrade) keeps its Upgrade and says Connection: upgrade, a 426 keeps
// its Upgrade and names it in Connection. To an HTTP/1.0 client
// (`http10_client`) no Transfer-Encoding (RFC 9112 6.1).
rte_mbuf* response_head(rte_mempool* pool, const http::head& h, bool close, bool http10_client = false);
// The proxy's own answer: a text/plain body of one line (none to a HEAD), Connection: close.
rte_mbuf* error_response(rte_mempool* pool, uint16_t status, std::string_view why, bool head_request);
const char* reason_phrase(uint16_t status);
// The request's own X-Request-ID field (passed on as it is), or nullptr.
const http::field* request_id_field(const http::head& h);
inline bool has_request_id(const http::head& h) { return request_id_field(h) != nullptr; }

}  // namespace kgw::proxy
