// The certificates of a manifests directory as the block the dataplane
// loads (pipelines/l7/tls/tls_publication.h), in rte_malloc memory: the TLS
// Secrets kgw's Ingresses name and the default certificate (control/tls),
// checked. Built by control on every pass (and by the dataplane's start);
// published when its digest differs from what runs.
#pragma once

#include <string>
#include <vector>

#include "control/publish/published_ingress.h"
#include "control/tls/tls_certificates.h"
#include "dataplane/config/gateway_config.h"
#include "pipelines/l7/tls/tls_publication.h"

namespace kgw {

struct tls_build {
  tls::tls_publication* pub = nullptr;  // rte_malloc
  std::string summary;                   // certificate_set::summary()
  std::vector<std::string> warnings;     // one line each
};

// False with `error` (every error line) when a Secret an Ingress or the
// default names cannot be used, or memory is short (nothing allocated then).
// `check_only`: checks without allocating (before EAL is up); out.pub stays
// nullptr. Nothing it reports or logs holds a private key.
bool build_tls_publication(const ingress_sources& src, const gateway_config& cfg, tls_build& out, std::string& error,
                           bool check_only = false);

// Whether two blocks publish the same certificates and hosts (by digest).
bool same_tls(const tls::tls_publication* a, const tls::tls_publication* b);

void free_tls_publication(tls::tls_publication* p);

}  // namespace kgw
