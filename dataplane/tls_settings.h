// TLS settings from gateway.yaml (`ingress.tls_*`), for the dataplane that
// builds the OpenSSL contexts and for control and `kgw validate`, which check
// certificates against the same settings.
#pragma once

#include "dataplane/config/gateway_config.h"
#include "pipelines/l7/tls/tls_contexts.h"

namespace kgw {

inline tls::tls_settings tls_settings_of(const gateway_config& cfg) {
  tls::tls_settings s;
  if (!cfg.ingress.tls_ciphers.empty()) s.ciphers = cfg.ingress.tls_ciphers;
  if (!cfg.ingress.tls_ciphersuites.empty()) s.ciphersuites = cfg.ingress.tls_ciphersuites;
  s.ticket_lifetime_s = cfg.ingress.tls_ticket_rotation;
  return s;
}

}  // namespace kgw
