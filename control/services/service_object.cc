// A v1 Service: type, cluster, external and load-balancer addresses, IP
// families, session affinity, traffic policy and ports, with Kubernetes'
// rules across ports.
#include "control/services/kubernetes_objects.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace kgw::manifest {

namespace {

const std::set<std::string>& known_spec_fields() {
  static const std::set<std::string> k = {
      "type",
      "clusterIP",
      "clusterIPs",
      "externalIPs",
      "externalName",
      "loadBalancerIP",
      "loadBalancerSourceRanges",
      "ports",
      "selector",
      "sessionAffinity",
      "sessionAffinityConfig",
      "externalTrafficPolicy",
      "internalTrafficPolicy",
      "ipFamilies",
      "ipFamilyPolicy",
      "publishNotReadyAddresses",
      "allocateLoadBalancerNodePorts",
      "loadBalancerClass",
      "healthCheckNodePort",
  };
  return k;
}

void parse_ports(ctx& c, const YAML::Node& spec, parsed_service& ps, bool allow_node_ports) {
  YAML::Node ports;
  if (!get_seq(c, spec, "ports", "spec.ports", ports)) return;
  static const std::set<std::string> known = {"name", "protocol", "port", "targetPort", "nodePort", "appProtocol"};
  for (size_t i = 0; i < ports.size(); ++i) {
    const YAML::Node p = ports[i];
    const std::string f = fmt::format("spec.ports[{}]", i);
    service_port_model sp;
    port_extra px;
    px.map_line = line_of(p);
    if (!p.IsMap()) {
      c.error(p, f, "expected a map");
      px.valid = false;
      ps.m.ports.push_back(sp);
      ps.px.push_back(px);
      continue;
    }
    for (auto it = p.begin(); it != p.end(); ++it) {
      std::string k = it->first.IsScalar() ? it->first.Scalar() : std::string();
      if (!known.count(k)) c.warn(it->first, f + "." + k, "unknown field, ignored");
    }
    if (auto name = get_str(c, p, "name", f + ".name")) {
      sp.name = *name;
      if (!sp.name.empty()) {
        auto why = check_dns_label(sp.name);
        if (!why.empty()) {
          c.error(child(p, "name"), f + ".name", fmt::format("invalid port name \"{}\": {}", sp.name, why));
          px.valid = false;
        }
      }
    }
    if (auto proto = parse_protocol(c, p, f + ".protocol")) sp.protocol = *proto;
    else px.valid = false;

    YAML::Node port = child(p, "port");
    px.port_line = line_of(port);
    long long v = 0;
    if (!present(port)) {
      c.error(p, f + ".port", "port is required");
      px.valid = false;
    } else if (get_int_node(c, port, f + ".port", 1, 65535, v)) {
      sp.port = static_cast<uint16_t>(v);
    } else {
      px.valid = false;
    }

    YAML::Node tp = child(p, "targetPort");
    px.target_line = line_of(tp);
    if (present(tp)) {
      long long t = 0;
      if (tp.IsScalar() && is_plain(tp) && parse_decimal(tp.Scalar(), t)) {
        if (t < 0 || t > 65535) {
          c.error(tp, f + ".targetPort", fmt::format("{} out of range 1..65535", t));
          px.valid = false;
        } else {
          sp.target_port_number = static_cast<uint16_t>(t);  // 0 = default to port, as Kubernetes does
        }
      } else if (tp.IsScalar()) {
        if (!tp.Scalar().empty()) {
          auto why = check_port_name(tp.Scalar());
          if (!why.empty()) {
            c.error(tp, f + ".targetPort", fmt::format("invalid port name \"{}\": {}", tp.Scalar(), why));
            px.valid = false;
          } else {
            sp.target_port_name = tp.Scalar();
          }
        }
      } else {
        c.error(tp, f + ".targetPort", "expected an integer or a port name");
        px.valid = false;
      }
    }
    if (sp.target_port_name.empty() && sp.target_port_number == 0) sp.target_port_number = sp.port;

    YAML::Node np = child(p, "nodePort");
    px.node_port_line = line_of(np);
    if (present(np)) {
      long long n = 0;
      if (get_int_node(c, np, f + ".nodePort", 0, 65535, n)) {
        if (n != 0 && !allow_node_ports) {
          c.error(np, f + ".nodePort", "nodePort requires type NodePort or LoadBalancer");
          px.valid = false;
        } else {
          sp.node_port = static_cast<uint16_t>(n);
        }
      } else {
        px.valid = false;
      }
    }
    get_str(c, p, "appProtocol", f + ".appProtocol");
    ps.m.ports.push_back(std::move(sp));
    ps.px.push_back(px);
  }

  // Kubernetes rules across ports.
  auto& sp = ps.m.ports;
  for (size_t i = 0; i < sp.size(); ++i) {
    if (!ps.px[i].valid && sp[i].port == 0) continue;
    const std::string f = fmt::format("spec.ports[{}]", i);
    const YAML::Node p = ports[i];
    if (sp.size() > 1 && sp[i].name.empty() && p.IsMap()) {
      YAML::Node nn = child(p, "name");
      c.error(present(nn) ? nn : p, f + ".name", "name is required when a Service has more than one port");
    }
    for (size_t j = 0; j < i; ++j) {
      if (!sp[i].name.empty() && sp[i].name == sp[j].name)
        c.error(child(p, "name"), f + ".name",
                fmt::format("duplicate port name \"{}\" (also spec.ports[{}])", sp[i].name, j));
      if (sp[i].port != 0 && sp[i].port == sp[j].port && sp[i].protocol == sp[j].protocol)
        c.error(child(p, "port"), f + ".port",
                fmt::format("duplicate port {}/{} (also spec.ports[{}])", sp[i].port, proto_name(sp[i].protocol), j));
      if (sp[i].node_port != 0 && sp[i].node_port == sp[j].node_port && sp[i].protocol == sp[j].protocol)
        c.error(child(p, "nodePort"), f + ".nodePort",
                fmt::format("duplicate nodePort {}/{} (also spec.ports[{}])", sp[i].node_port,
                            proto_name(sp[i].protocol), j));
    }
  }
}

}  // namespace

void parse_service(ctx& c, const YAML::Node& doc, parsed_file& st, const std::string& ns, const std::string& name) {
  parsed_service ps;
  service_model& m = ps.m;
  m.ns = ns;
  m.name = name;
  m.file = c.file;
  m.line = line_of(doc);

  YAML::Node spec = child(doc, "spec");
  if (!present(spec)) {
    c.error(doc, "spec", "spec is required");
    return;
  }
  if (!spec.IsMap()) {
    c.error(spec, "spec", "expected a map");
    return;
  }
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    std::string k = it->first.IsScalar() ? it->first.Scalar() : std::string();
    if (!known_spec_fields().count(k)) c.warn(it->first, "spec." + k, "unknown field, ignored");
  }

  // type
  YAML::Node type_n = child(spec, "type");
  if (auto t = get_str(c, spec, "type", "spec.type")) {
    if (*t == "ClusterIP") m.type = service_type::cluster_ip;
    else if (*t == "NodePort") m.type = service_type::node_port;
    else if (*t == "LoadBalancer") m.type = service_type::load_balancer;
    else if (*t == "ExternalName") {
      get_str(c, spec, "externalName", "spec.externalName");
      c.warn(type_n, "spec.type", "ExternalName Services are served by DNS, not by the L4 path");
      st.skipped_services.insert(m.key());
      return;
    } else {
      c.error(type_n, "spec.type", fmt::format("unknown Service type \"{}\"", *t));
    }
  }
  const bool external = m.type != service_type::cluster_ip;

  // clusterIP / clusterIPs
  bool headless = false;
  YAML::Node cip_n = child(spec, "clusterIP");
  int headless_line = 0;
  std::string headless_field;
  std::optional<ip_addr> cip;
  bool cip_set = false;
  if (auto s = get_str(c, spec, "clusterIP", "spec.clusterIP")) {
    if (*s == "None") {
      headless = true;
      headless_line = line_of(cip_n);
      headless_field = "spec.clusterIP";
      cip_set = true;
    } else if (!s->empty()) {
      cip_set = true;
      cip = get_ip_node(c, cip_n, "spec.clusterIP");
    }
  }
  YAML::Node cips_n;
  std::vector<ip_addr> cips;
  bool cips_ok = true;
  if (get_seq(c, spec, "clusterIPs", "spec.clusterIPs", cips_n) && cips_n.size() > 0) {
    if (cips_n.size() > 2) {
      c.error(cips_n, "spec.clusterIPs", "at most two clusterIPs (one per IP family)");
      cips_ok = false;
    }
    for (size_t i = 0; i < cips_n.size(); ++i) {
      const YAML::Node e = cips_n[i];
      const std::string f = fmt::format("spec.clusterIPs[{}]", i);
      if (e.IsScalar() && e.Scalar() == "None") {
        if (i == 0) {
          if (cip_set && !headless) {
            c.error(e, f, fmt::format("must equal spec.clusterIP ({})", cip_n.Scalar()));
            cips_ok = false;
          }
          if (!headless) {
            headless_line = line_of(e);
            headless_field = f;
          }
          headless = true;
        } else {
          c.error(e, f, "\"None\" is only valid as the first clusterIP");
          cips_ok = false;
        }
        continue;
      }
      auto a = get_ip_node(c, e, f);
      if (!a) {
        cips_ok = false;
        continue;
      }
      if (i == 0 && cip_set && (headless || (cip && !(*cip == *a)))) {
        c.error(e, f, fmt::format("must equal spec.clusterIP ({})", cip_n.Scalar()));
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
  YAML::Node fams_n;
  std::vector<uint8_t> fams;
  bool fams_ok = true;
  if (get_seq(c, spec, "ipFamilies", "spec.ipFamilies", fams_n)) {
    if (fams_n.size() > 2) {
      c.error(fams_n, "spec.ipFamilies", "at most two IP families");
      fams_ok = false;
    }
    for (size_t i = 0; i < fams_n.size(); ++i) {
      const YAML::Node e = fams_n[i];
      const std::string f = fmt::format("spec.ipFamilies[{}]", i);
      if (!e.IsScalar()) {
        c.error(e, f, "expected a string");
        fams_ok = false;
        continue;
      }
      uint8_t fam = 0;
      if (e.Scalar() == "IPv4") fam = 4;
      else if (e.Scalar() == "IPv6") fam = 6;
      else {
        c.error(e, f, fmt::format("unknown IP family \"{}\" (IPv4 or IPv6)", e.Scalar()));
        fams_ok = false;
        continue;
      }
      if (std::find(fams.begin(), fams.end(), fam) != fams.end()) {
        c.error(e, f, fmt::format("duplicate IP family {}", e.Scalar()));
        fams_ok = false;
        continue;
      }
      fams.push_back(fam);
    }
  }
  if (auto pol = get_str(c, spec, "ipFamilyPolicy", "spec.ipFamilyPolicy")) {
    if (*pol != "SingleStack" && *pol != "PreferDualStack" && *pol != "RequireDualStack")
      c.error(child(spec, "ipFamilyPolicy"), "spec.ipFamilyPolicy", fmt::format("unknown ipFamilyPolicy \"{}\"", *pol));
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
  YAML::Node eips_n;
  if (get_seq(c, spec, "externalIPs", "spec.externalIPs", eips_n)) {
    for (size_t i = 0; i < eips_n.size(); ++i) {
      auto a = get_ip_node(c, eips_n[i], fmt::format("spec.externalIPs[{}]", i));
      if (a && std::find(m.external_ips.begin(), m.external_ips.end(), *a) == m.external_ips.end())
        m.external_ips.push_back(*a);
    }
  }

  // Load balancer addresses: status.loadBalancer.ingress[].ip, then spec.loadBalancerIP.
  std::vector<ip_addr> lb;
  int lb_first_line = 0;
  {
    YAML::Node status = child(doc, "status");
    YAML::Node lbs, ing;
    if (present(status) && !status.IsMap()) c.error(status, "status", "expected a map");
    if (get_map(c, status, "loadBalancer", "status.loadBalancer", lbs) &&
        get_seq(c, lbs, "ingress", "status.loadBalancer.ingress", ing)) {
      for (size_t i = 0; i < ing.size(); ++i) {
        const YAML::Node e = ing[i];
        const std::string f = fmt::format("status.loadBalancer.ingress[{}]", i);
        if (!e.IsMap()) {
          c.error(e, f, "expected a map");
          continue;
        }
        YAML::Node ipn = child(e, "ip");
        if (present(ipn)) {
          if (!lb_first_line) lb_first_line = line_of(ipn);
          if (auto a = get_ip_node(c, ipn, f + ".ip"))
            if (std::find(lb.begin(), lb.end(), *a) == lb.end()) lb.push_back(*a);
        } else if (auto h = get_str(c, e, "hostname", f + ".hostname")) {
          c.warn(child(e, "hostname"), f + ".hostname",
                 fmt::format("hostname-only load balancer ingress \"{}\" is not used (no ip)", *h));
        }
      }
    }
  }
  YAML::Node lbip_n = child(spec, "loadBalancerIP");
  if (auto s = get_str(c, spec, "loadBalancerIP", "spec.loadBalancerIP"); s && !s->empty()) {
    if (!lb_first_line) lb_first_line = line_of(lbip_n);
    if (auto a = get_ip_node(c, lbip_n, "spec.loadBalancerIP"))
      if (std::find(lb.begin(), lb.end(), *a) == lb.end()) lb.push_back(*a);
  }
  if (!lb.empty()) {
    if (m.type == service_type::load_balancer) m.load_balancer_ips = lb;
    else {
      manifest_issue w = c.make(YAML::Node(YAML::NodeType::Undefined), "spec.type",
                                "load balancer addresses ignored: type is not LoadBalancer");
      if (lb_first_line) w.line = lb_first_line;
      c.warnings->push_back(std::move(w));
    }
  }
  {
    YAML::Node r;
    if (get_seq(c, spec, "loadBalancerSourceRanges", "spec.loadBalancerSourceRanges", r) && r.size() > 0)
      c.warn(r, "spec.loadBalancerSourceRanges", "not enforced by kgw");
  }

  // sessionAffinity
  if (auto s = get_str(c, spec, "sessionAffinity", "spec.sessionAffinity")) {
    if (*s == "ClientIP") m.affinity_client_ip = true;
    else if (*s != "None")
      c.error(child(spec, "sessionAffinity"), "spec.sessionAffinity", fmt::format("unknown sessionAffinity \"{}\"", *s));
  }
  {
    YAML::Node sac, cipc;
    if (get_map(c, spec, "sessionAffinityConfig", "spec.sessionAffinityConfig", sac) &&
        get_map(c, sac, "clientIP", "spec.sessionAffinityConfig.clientIP", cipc)) {
      long long t = 0;
      if (get_int(c, cipc, "timeoutSeconds", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1, 86400, t))
        m.affinity_timeout_s = static_cast<uint32_t>(t);
    }
  }

  // Traffic policies.
  if (auto s = get_str(c, spec, "externalTrafficPolicy", "spec.externalTrafficPolicy")) {
    if (*s == "Local") m.external_traffic_local = true;
    else if (*s != "Cluster")
      c.error(child(spec, "externalTrafficPolicy"), "spec.externalTrafficPolicy",
              fmt::format("unknown externalTrafficPolicy \"{}\" (Cluster or Local)", *s));
  }
  get_str(c, spec, "internalTrafficPolicy", "spec.internalTrafficPolicy");

  // selector
  {
    YAML::Node sel;
    if (get_map(c, spec, "selector", "spec.selector", sel)) {
      for (auto it = sel.begin(); it != sel.end(); ++it)
        if (!it->second.IsScalar() && !it->second.IsNull())
          c.error(it->second, "spec.selector." + (it->first.IsScalar() ? it->first.Scalar() : std::string()),
                  "expected a string");
      m.has_selector = sel.size() > 0;
    }
  }

  // Accepted and ignored.
  if (auto b = get_bool(c, spec, "publishNotReadyAddresses", "spec.publishNotReadyAddresses"); b && *b)
    c.warn(child(spec, "publishNotReadyAddresses"), "spec.publishNotReadyAddresses",
           "not supported: only ready endpoints get new flows");
  auto alloc = get_bool(c, spec, "allocateLoadBalancerNodePorts", "spec.allocateLoadBalancerNodePorts");
  get_str(c, spec, "loadBalancerClass", "spec.loadBalancerClass");
  get_str(c, spec, "externalName", "spec.externalName");
  {
    long long h = 0;
    get_int(c, spec, "healthCheckNodePort", "spec.healthCheckNodePort", 0, 65535, h);
  }

  parse_ports(c, spec, ps, external);

  if (headless) {
    manifest_issue w = c.make(YAML::Node(YAML::NodeType::Undefined), headless_field,
                              "headless Service (clusterIP None) has no virtual IP; skipped by the L4 path");
    if (headless_line) w.line = headless_line;
    c.warnings->push_back(std::move(w));
    st.skipped_services.insert(m.key());
    return;
  }

  if (m.ports.empty() && !present(child(spec, "ports")))
    c.error(spec, "spec.ports", "at least one port is required");
  else if (m.ports.empty())
    c.error(child(spec, "ports"), "spec.ports", "at least one port is required");

  if (m.cluster_ips.empty() && !cip_set && !present(cips_n))
    c.warn(spec, "spec.clusterIP", "no clusterIP allocated");

  const bool want_node_ports = external && !(m.type == service_type::load_balancer && alloc && !*alloc);
  if (want_node_ports) {
    for (size_t i = 0; i < m.ports.size(); ++i)
      if (ps.px[i].valid && m.ports[i].node_port == 0) {
        manifest_issue w = c.make(YAML::Node(YAML::NodeType::Undefined), fmt::format("spec.ports[{}].nodePort", i), "no nodePort allocated");
        w.line = ps.px[i].map_line ? ps.px[i].map_line : w.line;
        c.warnings->push_back(std::move(w));
      }
  }
  st.services.push_back(std::move(ps));
}

}  // namespace kgw::manifest
