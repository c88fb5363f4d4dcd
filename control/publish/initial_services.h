// Services that run from a dataplane's start (`kgw dataplane --manifests`,
// `kgw replay`): compiled here, published by the dataplane into the directory
// it owns before any worker runs, the way a control process would publish
// them over the command ring.
#pragma once

#include <string>

#include "dataplane/config/gateway_config.h"
#include "dataplane/publish/pod_route_publisher.h"
#include "dataplane/service_runtime.h"
#include "dataplane/tls_runtime.h"

namespace kgw {

// Compiles `dir` (warnings logged) into `out`, the hook the dataplane calls
// at start; the hook publishes the Ingress routes of `dir` too, after the
// Services they name. `has_ingress`: whether `dir` holds one of kgw's
// Ingresses (the HTTP proxy listens then). `tls_out`: the hook that
// publishes the certificates of `dir` (the TLS Secrets its Ingresses name).
// False with `error` listing every invalid manifest.
// `pods_out`: the hook that publishes the pod routes of `dir`'s Nodes (left
// empty when there are none).
bool initial_services_from(const gateway_config& cfg, const std::string& dir, service_runtime::initial_publish& out,
                           std::string& error, bool* has_ingress = nullptr, initial_tls_publish* tls_out = nullptr,
                           initial_pod_routes_publish* pods_out = nullptr);

}  // namespace kgw
