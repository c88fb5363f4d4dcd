// kgw route-check: which Ingress backend a host and path reach, like Envoy's router
// check tool. See docs/ingress.md.
#pragma once

namespace kgw {

// argv[0] is "route-check". Exit codes: 0 ok, 1 a case failed or the manifests are
// invalid, 2 usage error. Never throws.
int route_check_main(int argc, char** argv);

}  // namespace kgw
