// kgw route-check --manifests DIR (--host H --path P | --cases FILE.yaml)
#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/ingress/route_check.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw route-check --manifests DIR [--host HOST] --path PATH\n"
    "       kgw route-check --manifests DIR --cases FILE.yaml\n"
    "\n"
    "Builds kgw's Ingress route table from the manifests (Ingress, IngressClass and\n"
    "Service objects in *.yaml/*.yml/*.json files of DIR, or one file) and shows where a\n"
    "request goes: the first line is `namespace/service:port`, `default-backend\n"
    "namespace/service:port` or `404`; the next line tells which Ingress, rule and path\n"
    "matched. With --cases, checks every {host, path, expect} case of FILE and prints\n"
    "each mismatch and an `N passed, N failed` line.\n"
    "\n"
    "Options:\n"
    "  -m, --manifests DIR    manifests directory (or a single file)\n"
    "  -H, --host HOST        request Host header (a :port suffix is ignored); default none\n"
    "  -p, --path PATH        request path (query string and fragment are ignored)\n"
    "  -c, --cases FILE       YAML list of cases (or a map with `cases:`), each\n"
    "                         {host: H, path: P, expect: \"ns/svc:80\" | \"default-backend ns/svc:80\" | \"404\"}\n"
    "  -v, --verbose          also list the Ingresses that are not kgw's, and why\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit codes: 0 ok, 1 a case failed or the manifests are invalid, 2 usage error.\n";
}  // namespace

int route_check_main(int argc, char** argv) {
  route_check_options o;
  bool have_path = false;  // --path "" is a path: whether the flag was given is what counts
  parse_flags("route-check", argc, argv,
              {{"manifests", 'm', &o.manifests_dir}, {"host", 'H', &o.host}, {"path", 'p', &o.path, &have_path},
               {"cases", 'c', &o.cases_file}, {"verbose", 'v', nullptr, &o.verbose}},
              help);
  if (o.manifests_dir.empty()) usage_error("route-check", "--manifests is required");
  if (o.cases_file.empty() && !have_path) usage_error("route-check", "give --path (and --host), or --cases");
  if (!o.cases_file.empty() && have_path) usage_error("route-check", "--cases and --path are mutually exclusive");
  return route_check(o);
}

}  // namespace kgw
