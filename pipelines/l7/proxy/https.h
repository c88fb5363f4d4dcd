// HTTPS in the proxy: what a request over TLS (https_port) adds, and the
// 308 that sends a plain request for a host with TLS there. The TLS layer
// itself is pipelines/l7/tls; the client I/O over it is client_io.h.
// Internal to pipelines/l7/proxy.
#pragma once

#include <cstdint>
#include <string_view>

#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/proxy/proxy.h"

struct rte_mbuf;
struct rte_mempool;

namespace kgw::proxy {

// Over TLS: whether the request's host (port stripped) is a name of the
// certificate the connection's SNI selected (its DNS names, one-label
// wildcards); the proxy answers 421 otherwise. A request without a host
// (HTTP/1.0) is the SNI's.
bool https_host_covered(const proxy_worker& pw, const proxy_conn& c, std::string_view host);

// On http_port: whether a request for `host` that matched `route` (a route
// table lookup's result) is answered with a 308 to https: https_port
// listens, the host selects a certificate of an Ingress's spec.tls (its
// exact name, or the wildcard of its first label; not the default
// certificate), and the route's Ingress did not opt out (ssl-redirect).
bool redirects_to_https(const proxy_worker& pw, uint32_t route, std::string_view host);

// The 308 Permanent Redirect to https://host[:https_port]/path?query (the
// port left out when it is 443): a short text body (none for HEAD), and
// Connection: close when `close`. nullptr when the pool ran dry.
rte_mbuf* redirect_response(rte_mempool* pool, const http::head& h, std::string_view host, uint16_t https_port,
                            bool close);

}  // namespace kgw::proxy
