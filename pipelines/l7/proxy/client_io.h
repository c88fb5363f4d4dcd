// The proxy's calls on a client connection: the TCP stack's, or the TLS
// layer's for a connection of https_port (proxy_conn::tls). Both have the
// same contracts (pipelines/l7/tls/tls_stream.h), so proxy.cc reads the same
// either way. Backend connections are plain TCP and use tcp_* directly.
// Internal to pipelines/l7/proxy.
#pragma once

#include <cstdint>

#include "pipelines/l7/proxy/proxy.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tls/tls_stream.h"

namespace kgw::proxy {

inline rte_mbuf* client_recv(proxy_worker& pw, const proxy_conn& c, uint32_t max_bytes = UINT32_MAX) {
  return c.tls ? tls::tls_recv(*pw.tls, c.client, max_bytes) : tcp::tcp_recv(*pw.stack, c.client, max_bytes);
}

inline uint32_t client_recv_ready(const proxy_worker& pw, const proxy_conn& c) {
  return c.tls ? tls::tls_recv_ready(*pw.tls, c.client) : tcp::tcp_recv_ready(*pw.stack, c.client);
}

// 0: the chain is taken; -ENOBUFS: no room yet (ev_writable follows); else
// the connection cannot take it. On error the caller keeps the chain.
inline int client_send(proxy_worker& pw, const proxy_conn& c, rte_mbuf* chain) {
  return c.tls ? tls::tls_send(*pw.tls, c.client, chain) : tcp::tcp_send(*pw.stack, c.client, chain);
}

// The same, the client's side ending after the chain: over TCP the FIN rides
// on its last segment; over TLS close_notify follows as client_shutdown sends it.
inline int client_send_last(proxy_worker& pw, const proxy_conn& c, rte_mbuf* chain) {
  return c.tls ? tls::tls_send(*pw.tls, c.client, chain) : tcp::tcp_send_last(*pw.stack, c.client, chain);
}

// Bytes client_send takes now (over TLS: plaintext, the records' overhead deducted).
inline uint32_t client_send_space(const proxy_worker& pw, const proxy_conn& c) {
  return c.tls ? tls::tls_send_space(*pw.tls, c.client) : tcp::tcp_send_space(*pw.stack, c.client);
}

// Our side ends: the FIN (over TLS: close_notify first).
inline int client_shutdown(proxy_worker& pw, const proxy_conn& c) {
  return c.tls ? tls::tls_shutdown(*pw.tls, c.client) : tcp::tcp_shutdown(*pw.stack, c.client);
}

// The id goes back (over TLS with its session): closed in order, or reset.
inline int client_close(proxy_worker& pw, const proxy_conn& c) {
  return c.tls ? tls::tls_close(*pw.tls, c.client) : tcp::tcp_close(*pw.stack, c.client);
}

inline int client_abort(proxy_worker& pw, const proxy_conn& c) {
  return c.tls ? tls::tls_abort(*pw.tls, c.client) : tcp::tcp_abort(*pw.stack, c.client);
}

}  // namespace kgw::proxy
