// kgw dns-check [-c gateway.yaml] --manifests DIR NAME [TYPE]
#include <fmt/format.h>

#include <cstring>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "control/dns/dns_sources.h"
#include "control/dns/dns_text.h"
#include "pipelines/dns/dns_answer.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw dns-check [-c gateway.yaml] --manifests DIR NAME [TYPE]\n"
    "\n"
    "Builds the cluster DNS names of the manifests in DIR as control would and prints\n"
    "what the workers answer to an EDNS0 query for NAME (TYPE: A, AAAA, SRV, PTR, CNAME,\n"
    "TXT, SOA, NS, ANY or TYPEn; default A): the first line is `status: RCODE` (NOERROR,\n"
    "NXDOMAIN, REFUSED, ...), then one line per record in presentation format\n"
    "(`NAME TTL IN TYPE RDATA`), the answer section then the authority section. The zone,\n"
    "TTL and the responder's addresses come from the dns section of -c (default zone\n"
    "cluster.local, TTL 5); the SOA serial is 1, a dataplane's first publish.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway.yaml\n"
    "  -m, --manifests DIR    manifests directory\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit codes: 0 answered (whatever the status), 1 invalid config or manifests, 2 usage error.\n";

}  // namespace

int dns_check_main(int argc, char** argv) {
  // NAME and TYPE are the arguments that are not flags or flag values.
  std::vector<std::string> positional;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool takes_value = a == "-c" || a == "--config" || a == "-m" || a == "--manifests";
    if (!a.empty() && a[0] == '-' && a != "-") {
      rest.push_back(argv[i]);
      if (takes_value && i + 1 < argc) rest.push_back(argv[++i]);
    } else {
      positional.push_back(a);
    }
  }
  std::string config, manifests;
  parse_flags("dns-check", static_cast<int>(rest.size()), rest.data(),
              {{"config", 'c', &config}, {"manifests", 'm', &manifests}}, help);
  if (manifests.empty()) usage_error("dns-check", "--manifests is required");
  if (positional.empty() || positional.size() > 2) usage_error("dns-check", "give NAME and optionally TYPE");
  uint16_t type = dns::type_a;
  if (positional.size() == 2 && !(type = dns::type_of(positional[1])))
    usage_error("dns-check", fmt::format("unknown type \"{}\"", positional[1]));
  std::vector<uint8_t> name;
  if (!dns::query_name(positional[0], name)) usage_error("dns-check", fmt::format("\"{}\" is not a domain name", positional[0]));

  gateway_config cfg;
  if (!config.empty()) {
    auto c = load_config_or_report(config);
    if (!c) return 1;
    cfg = *c;
  }
  std::vector<dns::service_entry> services;
  std::string error;
  if (!dns::services_of_dir(manifests, services, error)) {
    fmt::print(stderr, "kgw dns-check: {} (kgw validate --manifests {} lists them)\n", error, manifests);
    return 1;
  }
  dns::table_build built;
  if (!dns::build_table(services, dns::zone_settings_of(cfg), built, error)) {
    fmt::print(stderr, "kgw dns-check: {}\n", error);
    return 1;
  }
  for (const auto& w : built.warnings) fmt::print(stderr, "warning: {}\n", w);
  reinterpret_cast<dns::table*>(built.blob.data())->generation = 1;

  std::string text;
  if (!dns::answer_text(reinterpret_cast<const dns::table*>(built.blob.data()), name, type, text, error)) {
    fmt::print(stderr, "kgw dns-check: no well-formed response ({})\n", error);
    return 1;
  }
  fmt::print("{}", text);
  return 0;
}

}  // namespace kgw
