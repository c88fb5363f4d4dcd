// What `kgw route-check` does: which Ingress backend a host and path reach,
// like Envoy's router check tool, or a file of such cases checked. See
// docs/ingress.md. (cmd/route_check_cmd.cc parses the command line.)
#pragma once

#include <string>

namespace kgw {

struct route_check_options {
  std::string manifests_dir;  // a directory, or one file
  std::string host, path;     // one request (when cases_file is empty)
  std::string cases_file;     // YAML list of {host, path, expect}
  bool verbose = false;       // also list the Ingresses that are not kgw's, and why
};

// Exit codes: 0 ok, 1 a case failed or the manifests are invalid. Never throws.
int route_check(const route_check_options& o);

}  // namespace kgw
