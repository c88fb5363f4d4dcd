// The HTTP proxy's settings from gateway.yaml (`ingress:` limits, timeouts),
// for the runtime that builds each worker's proxy and for the memory plan.
#pragma once

#include "dataplane/config/gateway_config.h"
#include "pipelines/l7/proxy/proxy.h"

namespace kgw {

// Endpoints each worker's proxy tracks (passive health, keep-alive pools).
inline constexpr uint32_t proxy_max_endpoints = 4096;

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
