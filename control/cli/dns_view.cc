#include "control/cli/dns_view.h"

#include <fmt/format.h>

#include "control/dns/dns_text.h"
#include "dataplane/stats.h"
#include "pipelines/dns/dns_table.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw {

namespace {

const dns::table* running(const shared_state& s) {
  const dns::table* t = s.dns;
  return t && t->magic == dns::table_magic ? t : nullptr;
}

// A wire name as text, with its final dot.
std::string name_text(const uint8_t* p, uint32_t len) {
  std::string out;
  uint32_t at = 0;
  while (at < len && p[at] != 0) {
    uint32_t l = p[at++];
    out.append(reinterpret_cast<const char*>(p + at), std::min(l, len - at));
    out += '.';
    at += l;
  }
  return out.empty() ? "." : out;
}

}  // namespace

std::string format_dns(const shared_state& s) {
  const dns::table* t = running(s);
  if (!t)
    return "dns: no names published (no dns section, or control has not published yet: queries get SERVFAIL)\n" +
           format_dns_forward(dns_forward_counts(s));
  std::string out = fmt::format(
      "dns: generation {} (SOA serial), TTL {} s, {} names, {} records, {} KiB\n"
      "  made of {} Services with cluster IPs, {} headless with {} endpoints, {} ExternalName\n",
      t->generation, t->ttl, t->n_nodes, t->n_rrs, (t->total_size + 1023) / 1024, t->n_services, t->n_headless,
      t->n_endpoints, t->n_external);
  for (uint32_t i = 0; i < t->n_zones && i < dns::max_zones; ++i) {
    const dns::zone_entry& z = t->zones[i];
    out += fmt::format("  zone {} ({})\n", name_text(t->data() + z.name_off, z.name_len),
                       z.authoritative ? "authoritative: other names NXDOMAIN"
                                       : "the names kgw knows; others REFUSED, or forwarded (dns.upstreams)");
  }
  out += t->pods == dns::pods_insecure ? "  pods insecure: a-b-c-d.<ns>.pod.<zone> answered from the name\n"
                                       : "  pods disabled: names below pod.<zone> NXDOMAIN\n";
  return out + format_dns_forward(dns_forward_counts(s));
}

bool format_dns_answer(const shared_state& s, const std::string& name, const std::string& type, std::string& out) {
  const dns::table* t = running(s);
  if (!t) {
    out = "no DNS names are published\n";
    return false;
  }
  uint16_t qtype = type.empty() ? dns::type_a : dns::type_of(type);
  if (!qtype) {
    out = fmt::format("unknown type \"{}\" (A, AAAA, SRV, PTR, CNAME, TXT, SOA, NS, ANY or TYPEn)\n", type);
    return false;
  }
  std::vector<uint8_t> wire;
  if (!dns::query_name(name, wire)) {
    out = fmt::format("\"{}\" is not a domain name\n", name);
    return false;
  }
  std::string error;
  if (!dns::answer_text(t, wire, qtype, out, error)) {
    out = fmt::format("no well-formed response ({})\n", error);
    return false;
  }
  return true;
}

}  // namespace kgw
