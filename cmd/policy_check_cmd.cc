// kgw policy-check --manifests DIR (--from A --to B --port P | --cases FILE.yaml)
#include <unistd.h>

#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/policy/policy_check.h"
#include "dataplane/eal.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw policy-check --manifests DIR --from NS/POD|IP --to NS/POD|IP --port PORT/PROTO\n"
    "       kgw policy-check --manifests DIR --cases FILE.yaml\n"
    "\n"
    "Compiles the NetworkPolicies of the manifests (Pod, Namespace and NetworkPolicy\n"
    "objects in *.yaml/*.yml/*.json files of DIR, or one file) into the rte_acl\n"
    "classifier kgw's workers run, and classifies one new flow: the first line is\n"
    "`allow` or `deny`; the next lines name the policies that decided, for the\n"
    "source's egress and the destination's ingress. With --cases, checks every\n"
    "{from, to, port, expect: allow|deny} case of FILE and prints each mismatch and\n"
    "an `N passed, N failed` line.\n"
    "\n"
    "Options:\n"
    "  -m, --manifests DIR    manifests directory (or a single file)\n"
    "  -f, --from SRC         the client: namespace/pod (its first address) or an IP address\n"
    "  -t, --to DST           the server: namespace/pod or an IP address\n"
    "  -p, --port PORT/PROTO  destination port and protocol: 80/TCP, 53/UDP, 9000/SCTP (default TCP)\n"
    "  -c, --cases FILE       YAML list of cases (or a map with `cases:`)\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit codes: 0 a verdict (allow or deny) or every case passed; 1 a case failed or\n"
    "the manifests are invalid; 2 usage error (also an unknown Pod, address or port).\n";
}  // namespace

int policy_check_main(int argc, char** argv) {
  policy_check_options o;
  parse_flags("policy-check", argc, argv,
              {{"manifests", 'm', &o.manifests_dir}, {"from", 'f', &o.from}, {"to", 't', &o.to},
               {"port", 'p', &o.port}, {"cases", 'c', &o.cases_file}},
              help);
  if (o.manifests_dir.empty()) usage_error("policy-check", "--manifests is required");
  bool one = !o.from.empty() || !o.to.empty() || !o.port.empty();
  if (!o.cases_file.empty() && one) usage_error("policy-check", "--cases and --from/--to/--port are mutually exclusive");
  if (o.cases_file.empty() && (o.from.empty() || o.to.empty() || o.port.empty()))
    usage_error("policy-check", "give --from, --to and --port, or --cases");
  // rte_acl allocates with rte_zmalloc: an EAL of its own, without hugepages,
  // devices or shared files.
  eal_session eal({"kgw-policy-check", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                   fmt::format("--file-prefix=kgw-policy-check-{}", getpid()), "--no-telemetry", "-l", "0",
                   "--log-level=*:error"},
                  eal_session::role::primary);
  if (!eal.ok()) {
    fmt::print(stderr, "kgw policy-check: {}\n", eal.error());
    return 1;
  }
  return policy_check(o);
}

}  // namespace kgw
