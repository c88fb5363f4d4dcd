// The HTTP proxy's settings from gateway.yaml (`ingress:` limits, timeouts),
// for the runtime that builds each worker's proxy and for the memory plan.
#pragma once

#include "dataplane/config/gateway_config.h"
#include "pipelines/l7/proxy/proxy.h"

namespace kgw {

// Endpoints each worker's proxy tracks (passive health, keep-alive pools).
inline constexpr uint32_t proxy_max_endpoints = 4096;

// The addresses backend connections leave from: the first SNAT address of
// each family (family 0: none).
struct proxy_sources {
  ip_addr v4, v6;
};
inline proxy_sources proxy_sources_of(const gateway_config& cfg) {
  proxy_sources s;
  for (const ip_addr& a : cfg.snat_addresses) {
    ip_addr& slot = a.is_v4() ? s.v4 : s.v6;
    if (!slot.family) slot = a;
  }
  return s;
}

inline constexpr const char* proxy_off_reason_no_source = "no snat.addresses entry of the Ingress addresses' family";

// Why the configuration leaves the HTTP proxy out ("" when it has what it
// needs): both ingress ports 0, or no SNAT address of an Ingress address's
// family to reach endpoints from. The runtime builds the proxy by this rule
// (and the TCP segments the ports can carry, docs/proxy.md "When it runs"),
// the memory plan counts it by the same.
inline const char* proxy_off_reason(const gateway_config& cfg) {
  if (!cfg.ingress.http_port && !cfg.ingress.https_port) return "ingress.http_port and https_port are 0";
  proxy_sources src = proxy_sources_of(cfg);
  for (const ip_addr& a : cfg.ingress.addresses)
    if ((a.is_v4() ? src.v4 : src.v6).family) return "";
  return proxy_off_reason_no_source;
}

inline proxy::proxy_settings proxy_settings_of(const ingress_config& in) {
  proxy::proxy_settings s;
  s.limits.max_start_line = in.limits.request_line_bytes;
  s.limits.max_field_block = in.limits.header_block_bytes;
  s.limits.max_fields = static_cast<uint16_t>(in.limits.headers);
  s.max_request_body = in.limits.request_body_bytes;
  constexpr uint64_t sec = 1'000'000'000;
  s.client_header_ns = in.timeouts.client_header * sec;
  s.client_idle_ns = in.timeouts.client_idle * sec;
  s.backend_connect_ns = in.timeouts.backend_connect * sec;
  s.backend_read_ns = in.timeouts.backend_read * sec;
  s.tunnel_idle_ns = in.timeouts.tunnel_idle * sec;
  for (const ip_prefix& p : in.trusted_proxies)
    if (s.n_trusted < proxy::max_trusted_proxies) s.trusted[s.n_trusted++] = p;
  return s;
}

}  // namespace kgw
