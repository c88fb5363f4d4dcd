// A v1 Node as pod routing reads it: spec.podCIDR(s), status.addresses, and
// the VXLAN endpoint from Flannel's annotations or kgw's own.
#include <fmt/format.h>

#include "control/services/kubernetes_objects.h"
#include "dataplane/config/yaml/parse.h"

namespace kgw::manifest {

namespace {

constexpr std::string_view flannel_backend_data = "flannel.alpha.coreos.com/backend-data";
constexpr std::string_view flannel_public_ip = "flannel.alpha.coreos.com/public-ip";
// Flannel's dual-stack: the IPv6 VTEP (flannel-v6.1) and the address it is reached at.
constexpr std::string_view flannel_backend_v6_data = "flannel.alpha.coreos.com/backend-v6-data";
constexpr std::string_view flannel_public_ip_v6 = "flannel.alpha.coreos.com/public-ip-v6";
constexpr std::string_view kgw_vtep_mac = "kgw.io/vtep-mac";
constexpr std::string_view kgw_vtep_ip = "kgw.io/vtep-ip";

void add_cidr(ctx& c, yaml::node n, const std::string& field, parsed_node& node) {
  if (!n.is_scalar()) return c.error(n, field, "expected a CIDR string");
  auto p = parse_prefix(n.text());
  if (!p) return c.error(n, field, fmt::format("not a CIDR (address/length, host bits zero): \"{}\"", n.text()));
  for (const auto& [q, line] : node.pod_cidrs)
    if (q == *p) return;  // podCIDR repeats podCIDRs[0], as the API server has it
  node.pod_cidrs.emplace_back(*p, n.line());
}

std::optional<mac_addr> vtep_mac_of(ctx& c, yaml::node n, std::string_view text, const std::string& field) {
  auto m = parse_mac(text);
  if (!m || (m->b[0] & 1)) {
    c.error(n, field, fmt::format("not a unicast MAC address: \"{}\"", text));
    return std::nullopt;
  }
  return m;
}

std::optional<ip_addr> vtep_ip_of(ctx& c, yaml::node n, const std::string& field, bool v6 = false) {
  auto a = get_ip(c, n, field);
  if (a && a->is_v6() != v6) {
    c.error(n, field, v6 ? "the IPv6 VXLAN endpoint is an IPv6 address" : "the VXLAN endpoint is an IPv4 address");
    return std::nullopt;
  }
  return a;
}

// Flannel writes backend-data as JSON, {"VNI":1,"VtepMAC":"..."}: JSON is YAML.
std::optional<mac_addr> flannel_backend(ctx& c, yaml::node n, const std::string& field) {
  yaml::stream docs = yaml::parse(n.text());
  if (docs.error() || docs.documents().empty() || !docs.documents()[0].root.is_map()) {
    c.error(n, field, "expected JSON like {\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}");
    return std::nullopt;
  }
  yaml::node mac = docs.documents()[0].root.get("VtepMAC");
  if (!mac.is_scalar()) {
    c.error(n, field, "no VtepMAC in it");
    return std::nullopt;
  }
  return vtep_mac_of(c, n, mac.text(), field + ".VtepMAC");
}

void annotations(ctx& c, yaml::node meta, parsed_node& node) {
  yaml::node a = meta.get("annotations");
  if (!a.present()) return;
  if (!a.is_map()) return c.error(a, "metadata.annotations", "expected a map");
  std::optional<ip_addr> public_ip, vtep_ip, public_ip6;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string_view k = a.key(i).text();
    yaml::node v = a.value(i);
    std::string field = fmt::format("metadata.annotations[{}]", k);
    if (k == flannel_backend_data && !node.vtep_mac) node.vtep_mac = flannel_backend(c, v, field);
    else if (k == flannel_backend_v6_data) node.vtep_mac6 = flannel_backend(c, v, field);
    else if (k == flannel_public_ip_v6) public_ip6 = vtep_ip_of(c, v, field, true);
    else if (k == kgw_vtep_mac && v.is_scalar()) node.vtep_mac = vtep_mac_of(c, v, v.text(), field);
    else if (k == flannel_public_ip) public_ip = vtep_ip_of(c, v, field);
    else if (k == kgw_vtep_ip) vtep_ip = vtep_ip_of(c, v, field);
  }
  // kgw's own annotation wins over Flannel's, and either over InternalIP.
  if (vtep_ip) node.address4 = vtep_ip;
  else if (public_ip) node.address4 = public_ip;
  if (public_ip6) node.address6 = public_ip6;
}

void internal_ips(ctx& c, yaml::node doc, parsed_node& node) {
  yaml::node addrs = doc.get("status").get("addresses");
  if (!addrs.present()) return;
  c.r.items(addrs, "status.addresses", [&](yaml::node item, const std::string& f) {
    if (item.get("type").text() != "InternalIP") return;
    auto a = get_ip(c, item.get("address"), f + ".address");
    if (!a) return;
    auto& slot = a->is_v4() ? node.address4 : node.address6;
    if (!slot) slot = a;
  });
}

}  // namespace

void parse_node(ctx& c, yaml::node doc, parsed_file& st, const std::string& name) {
  c.object = name;  // cluster-scoped: no namespace in messages
  parsed_node node;
  node.name = name;
  node.file = c.file;
  node.line = doc.get("metadata").get("name").line();
  yaml::node spec = doc.get("spec");
  if (yaml::node one = spec.get("podCIDR"); one.present()) add_cidr(c, one, "spec.podCIDR", node);
  if (yaml::node many = spec.get("podCIDRs"); many.present())
    c.r.items(many, "spec.podCIDRs", [&](yaml::node item, const std::string& f) { add_cidr(c, item, f, node); });
  internal_ips(c, doc, node);
  std::optional<ip_addr> internal4 = node.address4;
  node.address4.reset();
  annotations(c, doc.get("metadata"), node);
  if (!node.address4) node.address4 = internal4;
  st.nodes.push_back(std::move(node));
}

}  // namespace kgw::manifest
