// A v1 Service: type, cluster, external and load-balancer addresses, IP
// families, session affinity, traffic policy and ports, with Kubernetes'
// rules across ports.
#include "control/services/kubernetes_objects.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "dataplane/config/yaml/scalar.h"

namespace kgw::manifest {

namespace {

// A CIDR as the API server takes it (net.ParseCIDR): surrounding spaces
// trimmed, host bits allowed and cleared ("10.1.2.3/8" is 10.0.0.0/8).
std::optional<ip_prefix> get_source_range(ctx& c, yaml::node n, yaml::path field) {
  auto s = c.r.string(n, field);
  if (!s) return std::nullopt;
  std::string_view t = *s;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  auto slash = t.find('/');
  std::optional<ip_addr> a = slash == std::string_view::npos ? std::nullopt : parse_ip(t.substr(0, slash));
  auto len = a ? yaml::decimal_text(t.substr(slash + 1)) : std::nullopt;
  int max = a && a->family == 4 ? 32 : 128;
  if (!a || !len || *len < 0 || *len > max) {
    c.error(n, field, fmt::format("invalid CIDR \"{}\" (expected ADDRESS/LENGTH)", *s));
    return std::nullopt;
  }
  ip_prefix p{*a, static_cast<uint8_t>(*len)};
  size_t bytes = a->family == 4 ? 4 : 16;
  for (size_t i = 0; i < bytes; ++i) {
    int keep = std::clamp(static_cast<int>(p.len) - static_cast<int>(8 * i), 0, 8);
    p.addr.b[i] &= static_cast<uint8_t>(0xff00u >> keep);
  }
  return p;
}

size_t ports_n(yaml::node spec) { return spec.get("ports").is_sequence() ? spec.get("ports").size() : 0; }

void parse_ports(ctx& c, yaml::node spec, parsed_service& ps, bool allow_node_ports) {
  yaml::node ports = spec.get("ports");
  if (!c.r.sequence(ports, "spec.ports")) return;
  for (size_t i = 0; i < ports.size(); ++i) {
    const yaml::node p = ports.item(i);
    const std::string f = yaml::reader::index("spec.ports", i);
    service_port_model sp;
    port_extra px;
    px.map_line = p.line();
    if (!p.is_map()) {
      c.error(p, f, "expected a map");
      px.valid = false;
      ps.m.ports.push_back(sp);
      ps.px.push_back(px);
      continue;
    }
    c.r.unknown_keys(p, f, {"name", "protocol", "port", "targetPort", "nodePort", "appProtocol"});
    if (auto name = c.r.string(p.get("name"), yaml::path(f, ".name"))) {
      sp.name = *name;
      if (!sp.name.empty()) {
        auto why = check_dns_label(sp.name);
        if (!why.empty()) {
          c.error(p.get("name"), yaml::path(f, ".name"), fmt::format("invalid port name \"{}\": {}", sp.name, why));
          px.valid = false;
        }
      }
    }
    if (auto proto = parse_protocol(c, p, yaml::path(f, ".protocol"))) sp.protocol = *proto;
    else px.valid = false;

    yaml::node port = p.get("port");
    px.port_line = port.line();
    if (!port.present()) {
      c.error(p, yaml::path(f, ".port"), "port is required");
      px.valid = false;
    } else if (auto v = c.r.integer(port, yaml::path(f, ".port"), 1, 65535)) {
      sp.port = static_cast<uint16_t>(*v);
    } else {
      px.valid = false;
    }

    yaml::node tp = p.get("targetPort");
    px.target_line = tp.line();
    if (tp.present()) {
      auto t = tp.plain() ? yaml::decimal_text(tp.text()) : std::nullopt;
      if (t) {
        if (*t < 0 || *t > 65535) {
          c.error(tp, yaml::path(f, ".targetPort"), fmt::format("{} out of range 1..65535", *t));
          px.valid = false;
        } else {
          sp.target_port_number = static_cast<uint16_t>(*t);  // 0 = default to port, as Kubernetes does
        }
      } else if (tp.is_scalar()) {
        if (!tp.text().empty()) {
          auto why = check_port_name(tp.text());
          if (!why.empty()) {
            c.error(tp, yaml::path(f, ".targetPort"), fmt::format("invalid port name \"{}\": {}", tp.text(), why));
            px.valid = false;
          } else {
            sp.target_port_name = tp.text();
          }
        }
      } else {
        c.error(tp, yaml::path(f, ".targetPort"), "expected an integer or a port name");
        px.valid = false;
      }
    }
    if (sp.target_port_name.empty() && sp.target_port_number == 0) sp.target_port_number = sp.port;

    yaml::node np = p.get("nodePort");
    px.node_port_line = np.line();
    if (np.present()) {
      if (auto n = c.r.integer(np, yaml::path(f, ".nodePort"), 0, 65535)) {
        if (*n != 0 && !allow_node_ports) {
          c.error(np, yaml::path(f, ".nodePort"), "nodePort requires type NodePort or LoadBalancer");
          px.valid = false;
        } else {
          sp.node_port = static_cast<uint16_t>(*n);
        }
      } else {
        px.valid = false;
      }
    }
    c.r.string(p.get("appProtocol"), yaml::path(f, ".appProtocol"));
    ps.m.ports.push_back(std::move(sp));
    ps.px.push_back(px);
  }

  // Kubernetes rules across ports.
  auto& sp = ps.m.ports;
  for (size_t i = 0; i < sp.size(); ++i) {
    if (!ps.px[i].valid && sp[i].port == 0) continue;
    const std::string f = yaml::reader::index("spec.ports", i);
    const yaml::node p = ports.item(i);
    if (sp.size() > 1 && sp[i].name.empty() && p.is_map()) {
      yaml::node nn = p.get("name");
      c.error(nn.present() ? nn : p, yaml::path(f, ".name"), "name is required when a Service has more than one port");
    }
    for (size_t j = 0; j < i; ++j) {
      if (!sp[i].name.empty() && sp[i].name == sp[j].name)
        c.error(p.get("name"), yaml::path(f, ".name"),
                fmt::format("duplicate port name \"{}\" (also spec.ports[{}])", sp[i].name, j));
      if (sp[i].port != 0 && sp[i].port == sp[j].port && sp[i].protocol == sp[j].protocol)
        c.error(p.get("port"), yaml::path(f, ".port"),
                fmt::format("duplicate port {}/{} (also spec.ports[{}])", sp[i].port, proto_name(sp[i].protocol), j));
      if (sp[i].node_port != 0 && sp[i].node_port == sp[j].node_port && sp[i].protocol == sp[j].protocol)
        c.error(p.get("nodePort"), yaml::path(f, ".nodePort"),
                fmt::format("duplicate nodePort {}/{} (also spec.ports[{}])", sp[i].node_port,
                            proto_name(sp[i].protocol), j));
    }
  }
}

}  // namespace

void parse_service(ctx& c, yaml::node doc, parsed_file& st, const std::string& ns, const std::string& name) {
  parsed_service ps;
  service_model& m = ps.m;
  m.ns = ns;
  m.name = name;
  m.file = c.file;
  m.line = doc.line();

  yaml::node spec = doc.get("spec");
  if (!spec.present()) {
    c.error(doc, "spec", "spec is required");
    return;
  }
  if (!spec.is_map()) {
    c.error(spec, "spec", "expected a map");
    return;
  }
  c.r.unknown_keys(spec, "spec",
                   {"type", "clusterIP", "clusterIPs", "externalIPs", "externalName", "loadBalancerIP",
                    "loadBalancerSourceRanges", "ports", "selector", "sessionAffinity", "sessionAffinityConfig",
                    "externalTrafficPolicy", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy",
                    "publishNotReadyAddresses", "allocateLoadBalancerNodePorts", "loadBalancerClass",
                    "healthCheckNodePort", "trafficDistribution"});
  // Real API fields kgw does not act on: counted, one summary line per pass
  // (a cluster dump sets them on hundreds of Services), never "unknown".
  std::set<std::string_view> unused;

  // type
  yaml::node type_n = spec.get("type");
  if (auto t = c.r.string(type_n, "spec.type")) {
    if (*t == "ClusterIP") m.type = service_type::cluster_ip;
    else if (*t == "NodePort") m.type = service_type::node_port;
    else if (*t == "LoadBalancer") m.type = service_type::load_balancer;
    else if (*t == "ExternalName") {
      auto ext = c.r.string(spec.get("externalName"), "spec.externalName");
      c.warn(type_n, "spec.type", "ExternalName Services are served by DNS, not by the L4 path");
      st.skipped_services.insert(m.key());
      st.dns_only.push_back({m.ns, m.name, false, ext ? std::string(*ext) : std::string(), {}});
      return;
    } else {
      c.error(type_n, "spec.type", fmt::format("unknown Service type \"{}\"", *t));
    }
  }
  const bool external = m.type != service_type::cluster_ip;

  // clusterIP / clusterIPs
  bool headless = false;
  yaml::node cip_n = spec.get("clusterIP");
  int headless_line = 0;
  std::string headless_field;
  std::optional<ip_addr> cip;
  bool cip_set = false;
  if (auto s = c.r.string(cip_n, "spec.clusterIP")) {
    if (*s == "None") {
      headless = true;
      headless_line = cip_n.line();
      headless_field = "spec.clusterIP";
      cip_set = true;
    } else if (!s->empty()) {
      cip_set = true;
      cip = get_ip(c, cip_n, "spec.clusterIP");
    }
  }
  yaml::node cips_n = spec.get("clusterIPs");
  std::vector<ip_addr> cips;
  bool cips_ok = true;
  if (c.r.sequence(cips_n, "spec.clusterIPs") && cips_n.size() > 0) {
    if (cips_n.size() > 2) {
      c.error(cips_n, "spec.clusterIPs", "at most two clusterIPs (one per IP family)");
      cips_ok = false;
    }
    for (size_t i = 0; i < cips_n.size(); ++i) {
      const yaml::node e = cips_n.item(i);
      const std::string f = yaml::reader::index("spec.clusterIPs", i);
      if (e.is_scalar() && e.text() == "None") {
        if (i == 0) {
          if (cip_set && !headless) {
            c.error(e, f, fmt::format("must equal spec.clusterIP ({})", cip_n.text()));
            cips_ok = false;
          }
          if (!headless) {
            headless_line = e.line();
            headless_field = f;
          }
          headless = true;
        } else {
          c.error(e, f, "\"None\" is only valid as the first clusterIP");
          cips_ok = false;
        }
        continue;
      }
      auto a = get_ip(c, e, f);
      if (!a) {
        cips_ok = false;
        continue;
      }
      if (i == 0 && cip_set && (headless || (cip && !(*cip == *a)))) {
        c.error(e, f, fmt::format("must equal spec.clusterIP ({})", cip_n.text()));
        cips_ok = false;
      }
      cips.push_back(*a);
    }
    if (cips.size() == 2 && cips[0].family == cips[1].family) {
      c.error(cips_n, "spec.clusterIPs", "two clusterIPs must be one IPv4 and one IPv6 address");
      cips_ok = false;
    }
    if (cips_ok && !headless) m.cluster_ips = cips;
  } else if (cip && !headless) {
    m.cluster_ips.push_back(*cip);
  }

  // ipFamilies / ipFamilyPolicy
  yaml::node fams_n = spec.get("ipFamilies");
  std::vector<uint8_t> fams;
  bool fams_ok = true;
  if (c.r.sequence(fams_n, "spec.ipFamilies")) {
    if (fams_n.size() > 2) {
      c.error(fams_n, "spec.ipFamilies", "at most two IP families");
      fams_ok = false;
    }
    for (size_t i = 0; i < fams_n.size(); ++i) {
      const yaml::node e = fams_n.item(i);
      const std::string f = yaml::reader::index("spec.ipFamilies", i);
      if (!e.is_scalar()) {
        c.error(e, f, "expected a string");
        fams_ok = false;
        continue;
      }
      uint8_t fam = 0;
      if (e.text() == "IPv4") fam = 4;
      else if (e.text() == "IPv6") fam = 6;
      else {
        c.error(e, f, fmt::format("unknown IP family \"{}\" (IPv4 or IPv6)", e.text()));
        fams_ok = false;
        continue;
      }
      if (std::find(fams.begin(), fams.end(), fam) != fams.end()) {
        c.error(e, f, fmt::format("duplicate IP family {}", e.text()));
        fams_ok = false;
        continue;
      }
      fams.push_back(fam);
    }
  }
  if (auto pol = c.r.string(spec.get("ipFamilyPolicy"), "spec.ipFamilyPolicy")) {
    if (*pol != "SingleStack" && *pol != "PreferDualStack" && *pol != "RequireDualStack")
      c.error(spec.get("ipFamilyPolicy"), "spec.ipFamilyPolicy", fmt::format("unknown ipFamilyPolicy \"{}\"", *pol));
  }
  if (fams_ok && !fams.empty() && !m.cluster_ips.empty()) {
    std::vector<uint8_t> cfams;
    for (const auto& a : m.cluster_ips) cfams.push_back(a.family);
    if (cfams != fams)
      c.error(fams_n, "spec.ipFamilies",
              fmt::format("ipFamilies {} do not match the families of clusterIPs {}", families_string(fams),
                          families_string(cfams)));
  }
  if (fams_ok && !fams.empty()) m.ip_families = fams;
  else
    for (const auto& a : m.cluster_ips) m.ip_families.push_back(a.family);

  // externalIPs
  yaml::node eips_n = spec.get("externalIPs");
  if (c.r.sequence(eips_n, "spec.externalIPs")) {
    for (size_t i = 0; i < eips_n.size(); ++i) {
      auto a = get_ip(c, eips_n.item(i), yaml::path("spec.externalIPs", "", i));
      if (a && std::find(m.external_ips.begin(), m.external_ips.end(), *a) == m.external_ips.end())
        m.external_ips.push_back(*a);
    }
  }

  // Load balancer addresses: status.loadBalancer.ingress[].ip, then spec.loadBalancerIP.
  std::vector<ip_addr> lb;
  int lb_first_line = 0;
  {
    yaml::node status = doc.get("status");
    c.r.map(status, "status");
    yaml::node lbs = status.get("loadBalancer"), ing = lbs.get("ingress");
    if (c.r.map(lbs, "status.loadBalancer") && c.r.sequence(ing, "status.loadBalancer.ingress")) {
      for (size_t i = 0; i < ing.size(); ++i) {
        const yaml::node e = ing.item(i);
        const std::string f = yaml::reader::index("status.loadBalancer.ingress", i);
        if (!e.is_map()) {
          c.error(e, f, "expected a map");
          continue;
        }
        // ipMode Proxy: the load balancer delivers to the node, not to
        // the IP; kgw serves the IP either way.
        if (auto mode = c.r.string(e.get("ipMode"), yaml::path(f, ".ipMode")); mode && *mode == "Proxy")
          st.unused_fields["status.loadBalancer.ingress[].ipMode: Proxy"]++;
        yaml::node ipn = e.get("ip");
        if (ipn.present()) {
          if (!lb_first_line) lb_first_line = ipn.line();
          if (auto a = get_ip(c, ipn, yaml::path(f, ".ip")))
            if (std::find(lb.begin(), lb.end(), *a) == lb.end()) lb.push_back(*a);
        } else if (auto h = c.r.string(e.get("hostname"), yaml::path(f, ".hostname"))) {
          c.warn(e.get("hostname"), yaml::path(f, ".hostname"),
                 fmt::format("hostname-only load balancer ingress \"{}\" is not used (no ip)", *h));
        }
      }
    }
  }
  yaml::node lbip_n = spec.get("loadBalancerIP");
  if (auto s = c.r.string(lbip_n, "spec.loadBalancerIP"); s && !s->empty()) {
    if (!lb_first_line) lb_first_line = lbip_n.line();
    if (auto a = get_ip(c, lbip_n, "spec.loadBalancerIP"))
      if (std::find(lb.begin(), lb.end(), *a) == lb.end()) lb.push_back(*a);
  }
  if (!lb.empty()) {
    if (m.type == service_type::load_balancer) m.load_balancer_ips = lb;
    else {
      manifest_issue w = c.make(yaml::node(), "spec.type",
                                "load balancer addresses ignored: type is not LoadBalancer");
      if (lb_first_line) w.line = lb_first_line;
      c.warnings.push_back(std::move(w));
    }
  }
  {
    // Kubernetes applies the ranges to the load-balancer IPs only (kube-proxy
    // filters the LB IPs, not externalIPs, clusterIPs or nodePorts): so does kgw.
    yaml::node r = spec.get("loadBalancerSourceRanges");
    if (c.r.sequence(r, "spec.loadBalancerSourceRanges")) {
      std::vector<ip_prefix> ranges;
      for (size_t i = 0; i < r.size(); ++i) {
        const yaml::node e = r.item(i);
        if (auto p = get_source_range(c, e, yaml::path("spec.loadBalancerSourceRanges", "", i)))
          if (std::find(ranges.begin(), ranges.end(), *p) == ranges.end()) ranges.push_back(*p);
      }
      if (m.type == service_type::load_balancer) m.source_ranges = std::move(ranges);
      else if (r.size() > 0)
        c.warn(r, "spec.loadBalancerSourceRanges", "ignored: type is not LoadBalancer");
    }
  }

  // sessionAffinity
  if (auto s = c.r.string(spec.get("sessionAffinity"), "spec.sessionAffinity")) {
    if (*s == "ClientIP") m.affinity_client_ip = true;
    else if (*s != "None")
      c.error(spec.get("sessionAffinity"), "spec.sessionAffinity", fmt::format("unknown sessionAffinity \"{}\"", *s));
  }
  {
    yaml::node sac = spec.get("sessionAffinityConfig"), cipc = sac.get("clientIP");
    if (c.r.map(sac, "spec.sessionAffinityConfig") && c.r.map(cipc, "spec.sessionAffinityConfig.clientIP")) {
      if (auto t = c.r.integer(cipc.get("timeoutSeconds"), "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1,
                               86400))
        m.affinity_timeout_s = static_cast<uint32_t>(*t);
    }
  }

  // Traffic policies.
  if (auto s = c.r.string(spec.get("externalTrafficPolicy"), "spec.externalTrafficPolicy")) {
    if (*s == "Local") m.external_traffic_local = true;
    else if (*s != "Cluster")
      c.error(spec.get("externalTrafficPolicy"), "spec.externalTrafficPolicy",
              fmt::format("unknown externalTrafficPolicy \"{}\" (Cluster or Local)", *s));
  }

  // selector
  {
    yaml::node sel = spec.get("selector");
    if (c.r.map(sel, "spec.selector")) {
      for (size_t i = 0; i < sel.size(); ++i)
        if (sel.value(i).is_sequence() || sel.value(i).is_map())
          c.error(sel.value(i), yaml::reader::join("spec.selector", sel.key(i).is_scalar() ? sel.key(i).text() : ""),
                  "expected a string");
      m.has_selector = sel.size() > 0;
    }
  }

  // Accepted, type-checked, not acted on. publishNotReadyAddresses needs
  // nothing: the EndpointSlice controller then writes the endpoints ready,
  // and kgw follows the slices' conditions.
  c.r.boolean(spec.get("publishNotReadyAddresses"), "spec.publishNotReadyAddresses");
  auto alloc = c.r.boolean(spec.get("allocateLoadBalancerNodePorts"), "spec.allocateLoadBalancerNodePorts");
  if (c.r.string(spec.get("loadBalancerClass"), "spec.loadBalancerClass")) unused.insert("spec.loadBalancerClass");
  c.r.string(spec.get("externalName"), "spec.externalName");
  if (auto h = c.r.integer(spec.get("healthCheckNodePort"), "spec.healthCheckNodePort", 0, 65535); h && *h != 0)
    unused.insert("spec.healthCheckNodePort");
  if (c.r.string(spec.get("trafficDistribution"), "spec.trafficDistribution")) unused.insert("spec.trafficDistribution");
  // Cluster is what kgw does for every Service; Local (node-local
  // endpoints for in-cluster clients) has no meaning at a gateway.
  if (auto s = c.r.string(spec.get("internalTrafficPolicy"), "spec.internalTrafficPolicy"); s && *s == "Local")
    unused.insert("spec.internalTrafficPolicy");

  parse_ports(c, spec, ps, external);
  for (size_t i = 0; i < ports_n(spec); ++i)
    if (spec.get("ports").item(i).get("appProtocol").present()) unused.insert("spec.ports[].appProtocol");
  for (auto f : unused) st.unused_fields[std::string(f)]++;

  if (headless) {
    manifest_issue w = c.make(yaml::node(), headless_field,
                              "headless Service (clusterIP None) has no virtual IP; skipped by the L4 path");
    if (headless_line) w.line = headless_line;
    c.warnings.push_back(std::move(w));
    st.skipped_services.insert(m.key());
    st.dns_only.push_back({m.ns, m.name, true, {}, m.ports});
    return;
  }

  if (m.ports.empty() && !spec.get("ports").present())
    c.error(spec, "spec.ports", "at least one port is required");
  else if (m.ports.empty())
    c.error(spec.get("ports"), "spec.ports", "at least one port is required");

  if (m.cluster_ips.empty() && !cip_set && !cips_n.is_sequence())
    c.warn(spec, "spec.clusterIP", "no clusterIP allocated");

  const bool want_node_ports = external && !(m.type == service_type::load_balancer && alloc && !*alloc);
  if (want_node_ports) {
    for (size_t i = 0; i < m.ports.size(); ++i)
      if (ps.px[i].valid && m.ports[i].node_port == 0) {
        manifest_issue w = c.make(yaml::node(), fmt::format("spec.ports[{}].nodePort", i), "no nodePort allocated");
        w.line = ps.px[i].map_line ? ps.px[i].map_line : w.line;
        c.warnings.push_back(std::move(w));
      }
  }
  st.services.push_back(std::move(ps));
}

}  // namespace kgw::manifest
