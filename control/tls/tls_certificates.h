// The certificates TLS termination serves, from the manifests: the
// kubernetes.io/tls Secrets that kgw's Ingresses name in spec.tls (same
// namespace) and the default certificate (ingress.default_certificate),
// each checked as the dataplane will load it, and the host names that select
// each one by SNI. What goes wrong is reported with file and line:
//
//   error    a Secret an Ingress (or the default) names is not a PEM chain,
//            its key is not a PEM key or not the certificate's, or OpenSSL
//            refuses it (the hosts get the default certificate meanwhile)
//   warning  an expired or not yet valid certificate (served all the same);
//            an Ingress naming a missing Secret, one of another type, or
//            none (its hosts get the default certificate, as ingress-nginx
//            does); a host the certificate does not cover (likewise); a
//            default certificate that is missing (the self-signed one
//            serves); a TLS Secret no one names that would not load
//
// Slow path (control, kgw validate): std:: containers, OpenSSL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/tls/tls_certs.h"
#include "pipelines/l7/tls/tls_contexts.h"

namespace kgw::tls {

struct tls_certificate {
  std::string secret;  // "namespace/name"
  std::string file;
  int line = 0;
  std::string chain_pem, key_pem;
  cert_info info;
};

// A name SNI selects a certificate by.
struct tls_host {
  std::string host;     // normalized; "*.example.com" for a wildcard
  uint32_t cert = 0;    // index into certificate_set::certs
  std::string ingress;  // "namespace/name" of the Ingress that named it
};

struct certificate_set {
  std::vector<tls_certificate> certs;  // named by an Ingress host or as the default, each once
  std::vector<tls_host> hosts;         // sorted by host
  int32_t default_cert = -1;           // index; -1: the dataplane's self-signed certificate
  std::string default_name;            // ingress.default_certificate ("" = not set)
  std::vector<std::string> conflicts;  // a host named with two Secrets: which one lost
  uint32_t tls_secrets = 0;            // kubernetes.io/tls Secrets in the manifests

  // One line: "2 certificates for 3 host names; default certificate: ns/name".
  std::string summary() const;
};

// Where ingress.default_certificate was written, for messages.
struct default_certificate_ref {
  std::string name;  // "namespace/name", "" = none
  std::string file;
  int line = 0;
};

// `rs` is the route set of `m` (which Ingresses are kgw's, in precedence
// order: an older Ingress's Secret wins a host two of them name); `now` in
// Unix seconds. Errors and warnings are appended to `errors`.
certificate_set build_certificate_set(const ingress::manifest_set& m, const ingress::route_set& rs,
                                      const default_certificate_ref& def, const tls_settings& settings, int64_t now,
                                      std::vector<ingress::manifest_error>& errors);

}  // namespace kgw::tls
