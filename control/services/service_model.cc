// Kubernetes Services and EndpointSlices: YAML parsing, validation, and
// resolution of EndpointSlice ports into per-Service-port endpoint lists.
#include "control/services/service_model.h"

#include "control/services/merge_index.h"
#include "control/services/parsed_manifest.h"

#include "dataplane/config/yaml_documents.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <tuple>

#include <sys/stat.h>

#include <fmt/format.h>

namespace kgw {

std::string manifest_issue::to_string() const {
  std::string s = file;
  if (line > 0) s += fmt::format(":{}", line);
  if (!s.empty()) s += ": ";
  if (!object.empty()) s += object + ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

namespace {

constexpr uint8_t proto_tcp = 6;
constexpr uint8_t proto_udp = 17;

const char* proto_name(uint8_t p) { return p == proto_udp ? "UDP" : "TCP"; }
const char* family_name(uint8_t f) { return f == 6 ? "IPv6" : "IPv4"; }

std::string families_string(const std::vector<uint8_t>& fams) {
  std::string s = "[";
  for (size_t i = 0; i < fams.size(); ++i) {
    if (i) s += ", ";
    s += family_name(fams[i]);
  }
  return s + "]";
}

int line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  auto m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

// Present = defined and not null (`key:` or `key: ~` count as absent, as JSON null does).
bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

// Map lookup that never throws: a non-map parent yields an undefined node.
YAML::Node child(const YAML::Node& parent, const char* key) {
  if (!parent.IsDefined() || !parent.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& p = parent;
  return p[key];
}

// Plain (unquoted) scalars carry the non-specific tag "?"; quoted ones "!".
bool is_plain(const YAML::Node& n) {
  const std::string& t = n.Tag();
  return t.empty() || t == "?";
}

struct ctx {
  std::string file;
  std::string object;
  int fallback_line = 0;
  std::vector<manifest_issue>* errors = nullptr;
  std::vector<manifest_issue>* warnings = nullptr;

  manifest_issue make(const YAML::Node& n, const std::string& field, const std::string& msg) const {
    manifest_issue e;
    e.file = file;
    e.line = line_of(n);
    if (e.line == 0) e.line = fallback_line;
    e.object = object;
    e.field = field;
    e.message = msg;
    return e;
  }
  void error(const YAML::Node& n, const std::string& field, const std::string& msg) {
    errors->push_back(make(n, field, msg));
  }
  void warn(const YAML::Node& n, const std::string& field, const std::string& msg) {
    warnings->push_back(make(n, field, msg));
  }
};

// String field: absent -> nullopt; non-scalar -> error and nullopt.
std::optional<std::string> get_str(ctx& c, const YAML::Node& parent, const char* key, const std::string& field) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return std::nullopt;
  if (!n.IsScalar()) {
    c.error(n, field, "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

bool parse_decimal(const std::string& s, long long& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && b != e;
}

// Integer value node: must be a plain integer scalar within [lo, hi].
bool get_int_node(ctx& c, const YAML::Node& n, const std::string& field, long long lo, long long hi, long long& out) {
  long long v = 0;
  if (!n.IsScalar() || !is_plain(n) || !parse_decimal(n.Scalar(), v)) {
    std::string what = !n.IsScalar() ? std::string("expected an integer")
                       : parse_decimal(n.Scalar(), v)
                           ? fmt::format("expected an integer, got the quoted string \"{}\"", n.Scalar())
                           : fmt::format("expected an integer, got \"{}\"", n.Scalar());
    c.error(n, field, what);
    return false;
  }
  if (v < lo || v > hi) {
    c.error(n, field, fmt::format("{} out of range {}..{}", v, lo, hi));
    return false;
  }
  out = v;
  return true;
}

// Integer field: returns false when absent or invalid (invalid is reported).
bool get_int(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, long long lo, long long hi,
             long long& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  return get_int_node(c, n, field, lo, hi, out);
}

std::optional<bool> get_bool(ctx& c, const YAML::Node& parent, const char* key, const std::string& field) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return std::nullopt;
  if (n.IsScalar() && is_plain(n)) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes" || s == "YES" || s == "on" ||
        s == "On" || s == "ON")
      return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No" || s == "NO" || s == "off" ||
        s == "Off" || s == "OFF")
      return false;
  }
  c.error(n, field, n.IsScalar() ? fmt::format("expected a boolean, got \"{}\"", n.Scalar())
                                 : std::string("expected a boolean"));
  return std::nullopt;
}

std::optional<ip_addr> get_ip_node(ctx& c, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) {
    c.error(n, field, "expected a string");
    return std::nullopt;
  }
  auto a = parse_ip(n.Scalar());
  if (!a) c.error(n, field, fmt::format("invalid IP address \"{}\"", n.Scalar()));
  return a;
}

// Sequence field: absent -> false; non-sequence -> error and false.
bool get_seq(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  if (!n.IsSequence()) {
    c.error(n, field, "expected a list");
    return false;
  }
  out = n;
  return true;
}

bool get_map(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  if (!n.IsMap()) {
    c.error(n, field, "expected a map");
    return false;
  }
  out = n;
  return true;
}

// Kubernetes port names (IANA_SVC_NAME): 1-15 chars, [a-z0-9-], at least one
// letter, no leading/trailing or double hyphen.
std::string check_port_name(const std::string& s) {
  if (s.empty() || s.size() > 15) return "must be 1-15 characters";
  bool letter = false;
  for (char ch : s) {
    if (ch >= 'a' && ch <= 'z') letter = true;
    else if (!((ch >= '0' && ch <= '9') || ch == '-')) return "must contain only lowercase letters, digits and '-'";
  }
  if (!letter) return "must contain at least one letter";
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string::npos)
    return "must not begin or end with '-' or contain \"--\"";
  return {};
}

// Service port names, Service names and namespaces are DNS labels.
std::string check_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return "must be 1-63 characters";
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return "must contain only lowercase letters, digits and '-'";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with '-'";
  return {};
}

std::optional<uint8_t> parse_protocol(ctx& c, const YAML::Node& parent, const std::string& field) {
  YAML::Node n = child(parent, "protocol");
  auto s = get_str(c, parent, "protocol", field);
  if (!s) return present(n) ? std::nullopt : std::optional<uint8_t>(proto_tcp);
  if (*s == "TCP") return proto_tcp;
  if (*s == "UDP") return proto_udp;
  if (*s == "SCTP") c.error(n, field, "unsupported protocol SCTP");
  else c.error(n, field, fmt::format("unsupported protocol \"{}\"", *s));
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Intermediate records.

struct state {
  std::vector<parsed_service> services;
  std::vector<parsed_slice> slices;
  std::set<std::string> skipped_services;  // ExternalName / headless: exist, not modelled
  std::map<std::string, std::pair<std::string, int>> seen;  // kind|ns|name -> file, line
  std::vector<manifest_issue>* errors = nullptr;
  std::vector<manifest_issue>* warnings = nullptr;
};

// ---------------------------------------------------------------------------
// Service

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

void parse_service(ctx& c, const YAML::Node& doc, state& st, const std::string& ns, const std::string& name) {
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

// ---------------------------------------------------------------------------
// EndpointSlice

void parse_slice(ctx& c, const YAML::Node& doc, state& st, const std::string& ns, const std::string& name) {
  parsed_slice s;
  s.ns = ns;
  s.name = name;
  s.file = c.file;
  s.line = line_of(doc);

  YAML::Node meta = child(doc, "metadata");
  YAML::Node labels;
  bool have_label = false;
  if (get_map(c, meta, "labels", "metadata.labels", labels)) {
    YAML::Node l = child(labels, "kubernetes.io/service-name");
    if (present(l)) {
      if (!l.IsScalar() || l.Scalar().empty()) {
        c.error(l, "metadata.labels[kubernetes.io/service-name]", "expected a Service name");
      } else {
        s.service = l.Scalar();
        s.label_line = line_of(l);
        have_label = true;
      }
    }
  }
  if (!have_label && !(present(child(labels, "kubernetes.io/service-name")))) {
    c.error(present(labels) ? labels : meta, "metadata.labels",
            "missing label kubernetes.io/service-name (the Service this EndpointSlice belongs to)");
  }

  YAML::Node at_n = child(doc, "addressType");
  bool skip = false;
  s.address_type_line = line_of(at_n);
  auto at = get_str(c, doc, "addressType", "addressType");
  if (!present(at_n)) {
    c.error(doc, "addressType", "addressType is required");
    skip = true;
  } else if (!at) {
    skip = true;
  } else if (*at == "IPv4") {
    s.family = 4;
  } else if (*at == "IPv6") {
    s.family = 6;
  } else if (*at == "FQDN") {
    c.warn(at_n, "addressType", "FQDN EndpointSlices are not used by the L4 path; skipped");
    return;
  } else {
    c.error(at_n, "addressType", fmt::format("unknown addressType \"{}\" (IPv4, IPv6 or FQDN)", *at));
    skip = true;
  }

  YAML::Node eps;
  if (get_seq(c, doc, "endpoints", "endpoints", eps)) {
    for (size_t i = 0; i < eps.size(); ++i) {
      const YAML::Node e = eps[i];
      const std::string f = fmt::format("endpoints[{}]", i);
      if (!e.IsMap()) {
        c.error(e, f, "expected a map");
        continue;
      }
      endpoint_model em;
      bool have_addr = false;
      YAML::Node addrs;
      const bool addrs_ok = get_seq(c, e, "addresses", f + ".addresses", addrs);
      if (addrs_ok) {
        for (size_t j = 0; j < addrs.size(); ++j) {
          const std::string af = fmt::format("{}.addresses[{}]", f, j);
          auto a = get_ip_node(c, addrs[j], af);
          if (!a) continue;
          if (!skip && a->family != s.family) {
            c.error(addrs[j], af,
                    fmt::format("address {} is {} but addressType is {}", addrs[j].Scalar(),
                                family_name(a->family), family_name(s.family)));
            continue;
          }
          if (j == 0) {
            em.addr = *a;
            have_addr = true;
          }
        }
        if (addrs.size() > 1)
          c.warn(addrs, f + ".addresses", "only the first address of an endpoint is used (as kube-proxy does)");
      }
      if (!present(child(e, "addresses")) || (addrs_ok && addrs.size() == 0))
        c.error(e, f + ".addresses", "at least one address is required");

      YAML::Node cond;
      if (get_map(c, e, "conditions", f + ".conditions", cond)) {
        auto r = get_bool(c, cond, "ready", f + ".conditions.ready");
        auto sv = get_bool(c, cond, "serving", f + ".conditions.serving");
        auto t = get_bool(c, cond, "terminating", f + ".conditions.terminating");
        em.ready = r.value_or(true);
        em.serving = sv.value_or(em.ready);
        em.terminating = t.value_or(false);
      }
      if (auto n = get_str(c, e, "nodeName", f + ".nodeName")) em.node_name = *n;
      YAML::Node tr;
      if (get_map(c, e, "targetRef", f + ".targetRef", tr)) {
        auto tns = get_str(c, tr, "namespace", f + ".targetRef.namespace");
        auto tn = get_str(c, tr, "name", f + ".targetRef.name");
        if (tn && !tn->empty()) em.target = (tns && !tns->empty() ? *tns : ns) + "/" + *tn;
      }
      if (em.target.empty() && have_addr) em.target = to_string(em.addr);
      if (have_addr) s.endpoints.push_back(std::move(em));
    }
  }

  YAML::Node ports;
  if (get_seq(c, doc, "ports", "ports", ports)) {
    for (size_t i = 0; i < ports.size(); ++i) {
      const YAML::Node p = ports[i];
      const std::string f = fmt::format("ports[{}]", i);
      if (!p.IsMap()) {
        c.error(p, f, "expected a map");
        continue;
      }
      slice_port sp;
      bool ok = true;
      if (auto n = get_str(c, p, "name", f + ".name")) sp.name = *n;
      if (auto pr = parse_protocol(c, p, f + ".protocol")) sp.protocol = *pr;
      else ok = false;
      long long v = 0;
      YAML::Node pn = child(p, "port");
      if (!present(pn)) {
        c.warn(p, f + ".port", "port absent (\"all ports\") is not supported; entry skipped");
        ok = false;
      } else if (get_int_node(c, pn, f + ".port", 1, 65535, v)) {
        sp.port = static_cast<uint16_t>(v);
      } else {
        ok = false;
      }
      get_str(c, p, "appProtocol", f + ".appProtocol");
      if (ok) s.ports.push_back(std::move(sp));
    }
  }
  if (!skip && have_label) st.slices.push_back(std::move(s));
}

// ---------------------------------------------------------------------------
// Documents

// "Kind|namespace|name": one object, for finding duplicates.
std::string identity_key(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "|" + ns + "|" + name;
}

constexpr const char* known_kinds =
    "v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node, networking.k8s.io/v1 Ingress and IngressClass, v1 List";

void parse_document(const std::string& file, const YAML::Node& doc, state& st) {
  ctx c;
  c.file = file;
  c.errors = st.errors;
  c.warnings = st.warnings;
  c.fallback_line = line_of(doc);
  if (!doc.IsDefined() || doc.IsNull()) return;  // empty document
  if (!doc.IsMap()) {
    c.error(doc, "", "document is not a map (expected a Kubernetes object)");
    return;
  }
  auto api = get_str(c, doc, "apiVersion", "apiVersion");
  auto kind = get_str(c, doc, "kind", "kind");

  // Object identity (best effort, before kind checks, so messages can name it).
  YAML::Node meta = child(doc, "metadata");
  std::string ns = "default", name;
  bool meta_ok = true;
  if (present(meta) && !meta.IsMap()) {
    c.error(meta, "metadata", "expected a map");
    meta_ok = false;
  }
  if (meta_ok) {
    if (auto n = get_str(c, meta, "namespace", "metadata.namespace"); n && !n->empty()) ns = *n;
    if (auto n = get_str(c, meta, "name", "metadata.name")) name = *n;
  }
  if (!name.empty()) c.object = ns + "/" + name;

  if (!present(child(doc, "apiVersion"))) c.error(doc, "apiVersion", "apiVersion is required");
  if (!present(child(doc, "kind"))) c.error(doc, "kind", "kind is required");
  if (!api || !kind) return;

  if (*api == "v1" && *kind == "List") {  // `kubectl get -o yaml` of several objects
    YAML::Node items = child(doc, "items");
    if (present(items) && !items.IsSequence()) c.error(items, "items", "expected a list");
    if (present(items) && items.IsSequence())
      for (const auto& item : items) parse_document(file, item, st);
    return;
  }
  bool is_service = *api == "v1" && *kind == "Service";
  bool is_slice = *api == "discovery.k8s.io/v1" && *kind == "EndpointSlice";
  if (!is_service && !is_slice) {
    if ((*api == "v1" && *kind == "Node") ||
        (*api == "networking.k8s.io/v1" && (*kind == "Ingress" || *kind == "IngressClass")))
      return;
    if (*kind == "Service" || *kind == "EndpointSlice" || *kind == "Node" || *kind == "Ingress" ||
        *kind == "IngressClass" || *kind == "List")
      c.error(child(doc, "apiVersion"), "apiVersion",
              fmt::format("kind {} in apiVersion {} is not supported (kgw reads {})", *kind, *api, known_kinds));
    else
      c.error(child(doc, "kind"), "kind", fmt::format("unknown kind {} (kgw reads {})", *kind, known_kinds));
    return;
  }

  if (!meta_ok) return;
  if (!present(meta)) {
    c.error(doc, "metadata", "metadata is required");
    return;
  }
  YAML::Node name_n = child(meta, "name");
  if (name.empty()) {
    if (present(name_n) && name_n.IsScalar()) c.error(name_n, "metadata.name", "name must not be empty");
    else if (!present(name_n)) c.error(meta, "metadata.name", "name is required");
    return;
  }
  // Namespaces and Service names are DNS labels, as the API server has them:
  // "namespace/name" of a Service fits the 128 bytes its record holds.
  if (auto why = check_dns_label(ns); !why.empty()) {
    YAML::Node ns_n = child(meta, "namespace");
    c.error(present(ns_n) ? ns_n : meta, "metadata.namespace", why);
    return;
  }
  if (auto why = is_service ? check_dns_label(name) : std::string(); !why.empty()) {
    c.error(name_n, "metadata.name", why);
    return;
  }

  // Duplicate objects.
  const std::string dup_key = identity_key(*kind, ns, name);
  int here = line_of(name_n);
  auto [it, inserted] = st.seen.emplace(dup_key, std::make_pair(file, here));
  if (!inserted) {
    c.error(name_n, "metadata.name",
            fmt::format("duplicate {} {} (first defined at {}:{})", *kind, c.object, it->second.first,
                        it->second.second));
    return;
  }

  if (is_service) parse_service(c, doc, st, ns, name);
  else parse_slice(c, doc, st, ns, name);
}

void parse_file(const std::string& file, const std::string& text, state& st) {
  std::vector<YAML::Node> docs;
  try {
    docs = load_all_documents(text);
  } catch (const YAML::Exception& e) {
    manifest_issue i;
    i.file = file;
    i.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    i.message = "invalid YAML: " + e.msg;
    if (e.mark.column >= 0) i.message += fmt::format(" (column {})", e.mark.column + 1);
    st.errors->push_back(std::move(i));
    return;
  } catch (const std::exception& e) {
    st.errors->push_back(manifest_issue{file, 0, "", "", std::string("invalid YAML: ") + e.what()});
    return;
  }
  for (const auto& d : docs) {
    try {
      parse_document(file, d, st);
    } catch (const YAML::Exception& e) {
      manifest_issue i;
      i.file = file;
      i.line = e.mark.line >= 0 ? e.mark.line + 1 : line_of(d);
      i.message = "cannot read document: " + e.msg;
      st.errors->push_back(std::move(i));
    } catch (const std::exception& e) {
      st.errors->push_back(manifest_issue{file, line_of(d), "", "", std::string("cannot read document: ") + e.what()});
    }
  }
}

// ---------------------------------------------------------------------------
// Resolution and cross-object checks

bool endpoint_less(const endpoint_model& a, const endpoint_model& b) {
  return std::tie(a.addr.family, a.addr.b, a.port) < std::tie(b.addr.family, b.addr.b, b.port);
}

// The objects of every file, by reference (they stay in the per-file parses).
struct merged {
  std::vector<const parsed_service*> services;
  std::vector<const parsed_slice*> slices;
  std::set<std::string> skipped_services;
  std::vector<manifest_issue>* errors = nullptr;
  std::vector<manifest_issue>* warnings = nullptr;
};

}  // namespace

void resolve_ports(const parsed_service& ps, const std::vector<const parsed_slice*>& slices, service_model& model,
                   std::vector<manifest_issue>& warnings) {
  for (size_t pi = 0; pi < model.ports.size(); ++pi) {
    auto& sp = model.ports[pi];
    size_t matches = 0;
    std::map<std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t>, size_t> seen;
    for (const parsed_slice* s : slices) {
      for (const auto& slp : s->ports) {
        if (slp.name != sp.name || slp.protocol != sp.protocol) continue;
        ++matches;
        for (const auto& e : s->endpoints) {
          endpoint_model em = e;
          em.port = slp.port;
          auto key = std::make_tuple(em.addr.family, em.addr.b, em.port);
          auto [it, ins] = seen.emplace(key, sp.endpoints.size());
          if (ins) sp.endpoints.push_back(std::move(em));
          else sp.endpoints[it->second].ready = sp.endpoints[it->second].ready || em.ready;
        }
      }
    }
    std::sort(sp.endpoints.begin(), sp.endpoints.end(), endpoint_less);
    if (!sp.target_port_name.empty() && matches == 0) {
      warnings.push_back(manifest_issue{
          model.file, ps.px[pi].target_line, model.key(), fmt::format("spec.ports[{}].targetPort", pi),
          fmt::format("named targetPort {} resolves through EndpointSlices only; none found", sp.target_port_name)});
    }
  }
}

bool slice_served(const service_model& m, const parsed_slice& s) {
  return m.ip_families.empty() || std::find(m.ip_families.begin(), m.ip_families.end(), s.family) != m.ip_families.end();
}

manifest_issue slice_skipped(const service_model& m, const parsed_slice& s) {
  return manifest_issue{s.file, s.address_type_line ? s.address_type_line : s.line, s.ns + "/" + s.name, "addressType",
                        fmt::format("addressType {} is not among the ipFamilies of Service {} {}; skipped",
                                    family_name(s.family), m.key(), families_string(m.ip_families))};
}

std::vector<ip_addr> claimed_addresses(const service_model& m) {
  std::vector<ip_addr> addrs;
  for (const auto* v : {&m.cluster_ips, &m.external_ips, &m.load_balancer_ips})
    for (const auto& a : *v)
      if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
  return addrs;
}

namespace {

void resolve(merged& st, service_set& out) {
  // Keys made once, not per comparison.
  struct keyed_service {
    std::string key;
    const parsed_service* ps;
  };
  std::vector<keyed_service> keyed;
  keyed.reserve(st.services.size());
  for (const parsed_service* ps : st.services) keyed.push_back({ps->m.key(), ps});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) index.emplace(keyed[i].key, i);
  out.services.clear();
  out.services.reserve(keyed.size());

  // Slices grouped by Service, in input order.
  std::vector<std::vector<const parsed_slice*>> slices_of(keyed.size());
  for (const parsed_slice* s : st.slices) {
    std::string key = s->service_key();
    auto it = index.find(key);
    if (it == index.end()) {
      if (!st.skipped_services.count(key)) {
        st.errors->push_back(manifest_issue{
            s->file, s->label_line ? s->label_line : s->line, s->ns + "/" + s->name,
            "metadata.labels[kubernetes.io/service-name]", fmt::format("Service {} does not exist", key)});
      }
      continue;
    }
    const auto& m = keyed[it->second].ps->m;
    if (!slice_served(m, *s)) {
      st.warnings->push_back(slice_skipped(m, *s));
      continue;
    }
    slices_of[it->second].push_back(s);
  }
  for (size_t si = 0; si < keyed.size(); ++si) {
    auto model = std::make_shared<service_model>(keyed[si].ps->m);
    resolve_ports(*keyed[si].ps, slices_of[si], *model, *st.warnings);
    out.services.push_back(std::move(model));
  }

  // Frontend clashes: (address, port, protocol) and (nodePort, protocol).
  using fe_key = std::tuple<uint8_t, std::array<uint8_t, 16>, uint16_t, uint8_t>;
  std::map<fe_key, size_t> frontends;
  std::map<std::pair<uint16_t, uint8_t>, size_t> node_ports;
  for (size_t si = 0; si < keyed.size(); ++si) {
    const parsed_service& ps = *keyed[si].ps;
    const service_model& m = *out.services[si];
    std::vector<ip_addr> addrs = claimed_addresses(m);
    for (size_t pi = 0; pi < m.ports.size(); ++pi) {
      const auto& sp = m.ports[pi];
      if (sp.port == 0) continue;
      bool reported = false;
      for (const auto& a : addrs) {
        auto [it, ins] = frontends.emplace(fe_key{a.family, a.b, sp.port, sp.protocol}, si);
        if (!ins && it->second != si && !reported) {
          st.errors->push_back(manifest_issue{
              m.file, ps.px[pi].port_line ? ps.px[pi].port_line : ps.px[pi].map_line, m.key(),
              fmt::format("spec.ports[{}].port", pi),
              fmt::format("port clash with {} ({} port {}/{})", out.services[it->second]->key(), to_string(a), sp.port,
                          proto_name(sp.protocol))});
          reported = true;
        }
      }
      if (sp.node_port != 0) {
        auto [it, ins] = node_ports.emplace(std::make_pair(sp.node_port, sp.protocol), si);
        if (!ins && it->second != si) {
          st.errors->push_back(manifest_issue{
              m.file, ps.px[pi].node_port_line ? ps.px[pi].node_port_line : ps.px[pi].map_line, m.key(),
              fmt::format("spec.ports[{}].nodePort", pi),
              fmt::format("port clash with {} (nodePort {}/{})", out.services[it->second]->key(), sp.node_port,
                          proto_name(sp.protocol))});
        }
      }
    }
  }
}

std::shared_ptr<const parsed_file> parse_one_file(const std::string& file, const std::string& text) {
  auto pf = std::make_shared<parsed_file>();
  state st;
  st.errors = &pf->errors;
  st.warnings = &pf->warnings;
  try {
    parse_file(file, text, st);
  } catch (const std::exception& e) {
    pf->errors.push_back(manifest_issue{file, 0, "", "", std::string("internal error: ") + e.what()});
  }
  pf->services = std::move(st.services);
  pf->slices = std::move(st.slices);
  pf->skipped_services = std::move(st.skipped_services);
  pf->identities = std::move(st.seen);
  return pf;
}

}  // namespace

bool merge_files(const std::vector<file_ref>& files, service_set& out, std::vector<manifest_issue>& errors) {
  out = service_set{};
  size_t errors_before = errors.size();
  try {
    merged st;
    st.errors = &errors;
    st.warnings = &out.warnings;
    std::unordered_map<std::string_view, const std::pair<std::string, int>*> seen;  // into the files' identities
    size_t objects = 0;
    for (const auto& pf : files) objects += pf->identities.size();
    seen.reserve(objects);
    for (const auto& pf : files) {
      errors.insert(errors.end(), pf->errors.begin(), pf->errors.end());
      out.warnings.insert(out.warnings.end(), pf->warnings.begin(), pf->warnings.end());
      std::set<std::string> duplicates;  // this file's objects already defined by an earlier one
      for (const auto& [key, where] : pf->identities) {
        auto [it, inserted] = seen.emplace(key, &where);
        if (inserted) continue;
        duplicates.insert(key);
        size_t bar1 = key.find('|'), bar2 = key.find('|', bar1 + 1);
        std::string kind = key.substr(0, bar1);
        std::string object = key.substr(bar1 + 1, bar2 - bar1 - 1) + "/" + key.substr(bar2 + 1);
        errors.push_back(manifest_issue{where.first, where.second, object, "metadata.name",
                                        fmt::format("duplicate {} {} (first defined at {}:{})", kind, object,
                                                    it->second->first, it->second->second)});
      }
      for (const auto& ps : pf->services)
        if (duplicates.empty() || !duplicates.count(identity_key("Service", ps.m.ns, ps.m.name)))
          st.services.push_back(&ps);
      for (const auto& sl : pf->slices)
        if (duplicates.empty() || !duplicates.count(identity_key("EndpointSlice", sl.ns, sl.name)))
          st.slices.push_back(&sl);
      st.skipped_services.insert(pf->skipped_services.begin(), pf->skipped_services.end());
    }
    resolve(st, out);
  } catch (const std::exception& e) {
    errors.push_back(manifest_issue{"", 0, "", "", std::string("internal error: ") + e.what()});
  } catch (...) {
    errors.push_back(manifest_issue{"", 0, "", "", "internal error"});
  }
  return errors.size() == errors_before;
}

namespace {

bool same_file(const manifest_cache::file_state& a, const manifest_cache::file_state& b) {
  return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns;
}

}  // namespace

manifest_cache::manifest_cache() = default;
manifest_cache::~manifest_cache() = default;

manifest_cache::manifest_cache(manifest_cache&&) noexcept = default;
manifest_cache& manifest_cache::operator=(manifest_cache&&) noexcept = default;

void manifest_cache::clear() {
  files.clear();
  names.clear();
  parsed.clear();
  complete = false;
  changed.reset();
  index.reset();
  parsed_last = 0;
}

bool parse_services(const std::vector<std::pair<std::string, std::string>>& files, service_set& out,
                    std::vector<manifest_issue>& errors) {
  std::vector<std::shared_ptr<const parsed_file>> parsed;
  for (const auto& [file, text] : files) parsed.push_back(parse_one_file(file, text));
  return merge_files(parsed, out, errors);
}

bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors) {
  manifest_cache none;
  return load_services(dir, out, errors, none);
}

namespace {

bool manifest_name(const std::string& n) {
  auto ends = [&](const char* e) { return n.size() > std::strlen(e) && n.ends_with(e); };
  return ends(".yaml") || ends(".yml") || ends(".json");
}

// A name an inotify hint may carry for a partial scan: a file right in the
// directory. A ConfigMap volume swaps a "..data" symlink and "..TIMESTAMP"
// directories instead: those mean "look at everything".
bool plain_name(const std::string& n) { return !n.empty() && n.find('/') == std::string::npos && !n.starts_with(".."); }

// The sorted manifest file names in `dir`; false with an error when it cannot be read.
bool list_manifests(const std::string& dir, std::vector<std::string>& names, std::vector<manifest_issue>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (!manifest_name(n)) continue;
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;
    names.push_back(std::move(n));
  }
  if (ec) {
    errors.push_back(manifest_issue{dir, 0, "", "", "cannot read directory: " + ec.message()});
    return false;
  }
  std::sort(names.begin(), names.end());
  return true;
}

enum class looked { parsed_or_kept, gone, unreadable };

// Stats one file and keeps its parse (unchanged identity, not racy, not
// `force`d) or parses it again.
looked look_at(const std::string& path, manifest_cache& cache, uint64_t pass, int64_t now_ns, bool force) {
  cache.looked_at_last++;
  // stat before reading: a file replaced in between is read new under the
  // old identity, so the next load sees a new identity and reads it again.
  struct stat sb{};
  if (::stat(path.c_str(), &sb) != 0) return errno == ENOENT ? looked::gone : looked::unreadable;
  if (!S_ISREG(sb.st_mode)) return looked::gone;
  manifest_cache::file_state now{static_cast<uint64_t>(sb.st_dev), static_cast<uint64_t>(sb.st_ino),
                                 static_cast<uint64_t>(sb.st_size),
                                 int64_t(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec,
                                 int64_t(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec, false, nullptr, pass};
  // File times come from a coarse clock: a same-size rewrite just after this
  // read could keep the times seen now. Such a recent file is read again next
  // time (git's "racy" entries).
  now.racy = std::max(now.mtime_ns, now.ctime_ns) + cache.racy_window_ns > now_ns;
  manifest_cache::file_state& held = cache.files[path];
  if (!force && held.parsed && !held.racy && same_file(held, now)) {
    now.parsed = std::move(held.parsed);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      cache.files.erase(path);
      return looked::unreadable;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    now.parsed = parse_one_file(path, ss.str());
    cache.parsed_last++;
  }
  held = std::move(now);
  return looked::parsed_or_kept;
}

// Which files' parses a scan replaced, as (name, before, now); a file gone
// is now nullptr, a new one was nullptr before.
struct file_change {
  std::string name;
  file_ref before, now;
};

// The two sorted lists of (name, parse) walked together.
void diff_scans(const std::vector<std::string>& old_names, const std::vector<file_ref>& old_parsed,
                const manifest_cache& cache, std::vector<file_change>& out) {
  size_t i = 0, j = 0;
  while (i < old_names.size() || j < cache.names.size()) {
    int c = i == old_names.size()     ? 1
            : j == cache.names.size() ? -1
                                      : old_names[i].compare(cache.names[j]);
    if (c < 0) {
      out.push_back({old_names[i], old_parsed[i], nullptr});
      ++i;
    } else if (c > 0) {
      out.push_back({cache.names[j], nullptr, cache.parsed[j]});
      ++j;
    } else {
      if (old_parsed[i] != cache.parsed[j]) out.push_back({cache.names[j], old_parsed[i], cache.parsed[j]});
      ++i, ++j;
    }
  }
}

// Every file of the directory: the first load, reload, and whenever the
// changed names are not known.
bool scan_all(const std::string& dir, manifest_cache& cache, uint64_t pass, int64_t now_ns,
              std::vector<manifest_issue>& errors, std::vector<file_change>& changes) {
  std::vector<std::string> names;
  if (!list_manifests(dir, names, errors)) return false;
  bool ok = true;
  std::vector<std::string> old_names = std::move(cache.names);
  std::vector<file_ref> old_parsed = std::move(cache.parsed);
  cache.names.clear();
  cache.parsed.clear();
  for (auto& n : names) {
    std::string path = dir + "/" + n;
    looked l = look_at(path, cache, pass, now_ns, false);
    if (l == looked::parsed_or_kept) {
      cache.names.push_back(std::move(n));
      cache.parsed.push_back(cache.files[path].parsed);
    } else if (l == looked::unreadable || l == looked::gone) {
      // Listed a moment ago: gone or unreadable now is an error of this pass.
      errors.push_back(manifest_issue{path, 0, "", "", "cannot read file"});
      ok = false;
    }
  }
  // Files gone (or unreadable) this time are forgotten.
  std::erase_if(cache.files, [&](const auto& kv) { return kv.second.pass != pass; });
  diff_scans(old_names, old_parsed, cache, changes);
  return ok;
}

// Only the files named as changed: each is read again (the watcher saw it
// change) or forgotten when it is gone. The others are as the last load left them.
bool scan_named(const std::string& dir, const std::vector<std::string>& changed, manifest_cache& cache,
                uint64_t pass, int64_t now_ns, std::vector<manifest_issue>& errors,
                std::vector<file_change>& changes) {
  bool ok = true;
  std::vector<std::string> todo(changed);
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  for (const auto& n : todo) {
    if (!manifest_name(n)) continue;
    std::string path = dir + "/" + n;
    auto at = std::lower_bound(cache.names.begin(), cache.names.end(), n);
    auto i = at - cache.names.begin();
    bool listed = at != cache.names.end() && *at == n;
    file_ref was = listed ? cache.parsed[i] : nullptr;
    looked l = look_at(path, cache, pass, now_ns, true);
    if (l == looked::parsed_or_kept) {
      const file_ref& now = cache.files[path].parsed;
      if (listed) {
        cache.parsed[i] = now;
      } else {
        cache.names.insert(at, n);
        cache.parsed.insert(cache.parsed.begin() + i, now);
      }
      if (now != was) changes.push_back({n, std::move(was), now});
      continue;
    }
    if (listed) {
      cache.names.erase(at);
      cache.parsed.erase(cache.parsed.begin() + i);
      changes.push_back({n, std::move(was), nullptr});
    }
    cache.files.erase(path);
    if (l == looked::unreadable) {
      errors.push_back(manifest_issue{path, 0, "", "", "cannot read file"});
      ok = false;
    }
  }
  return ok;
}

}  // namespace

bool load_service_changes(const std::string& dir, std::vector<manifest_issue>& errors,
                          std::vector<manifest_issue>& warnings, manifest_cache& cache) {
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); };
  auto t0 = clock::now();
  cache.parsed_last = 0;
  cache.looked_at_last = 0;
  cache.files_changed_last = 0;
  cache.services_resolved_last = 0;
  std::optional<std::vector<std::string>> changed = std::move(cache.changed);
  cache.changed.reset();
  try {
    if (!cache.index) {
      // A new index knows no files: every file is new to it.
      cache.names.clear();
      cache.parsed.clear();
      cache.index = std::make_unique<merge_index>();
    }
    bool partial = changed && cache.pass > 0 && cache.dir == dir && cache.complete &&
                   std::all_of(changed->begin(), changed->end(), plain_name);
    const uint64_t pass = ++cache.pass;
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    const int64_t now_ns = int64_t(wall.tv_sec) * 1000000000 + wall.tv_nsec;
    cache.files.reserve(cache.names.size() + 16);
    std::vector<file_change> file_changes;
    bool ok = partial ? scan_named(dir, *changed, cache, pass, now_ns, errors, file_changes)
                      : scan_all(dir, cache, pass, now_ns, errors, file_changes);
    cache.dir = dir;
    // A pass with unreadable files leaves the names short of the directory:
    // the next pass looks at everything again.
    cache.complete = ok;
    cache.scan_ms_last = ms_since(t0);
    auto t1 = clock::now();
    merge_index& index = *cache.index;
    index.start_pass();
    for (const auto& c : file_changes) index.replace_file(c.name, c.before, c.now);
    cache.files_changed_last = file_changes.size();
    cache.services_resolved_last = index.to_resolve();
    index.resolve_touched();
    bool merged = true;
    if (index.has_errors()) {
      // Worded by the full merge, so a rejected change reads the same however it was found.
      service_set scratch;
      merged = merge_files(cache.parsed, scratch, errors);
      warnings.insert(warnings.end(), scratch.warnings.begin(), scratch.warnings.end());
      if (merged) {
        errors.push_back(manifest_issue{dir, 0, "", "", "internal error: the kept merge has an error the full check does not find"});
        cache.clear();
        merged = false;
      }
    } else {
      index.pass_warnings(warnings);
    }
    cache.merge_ms_last = ms_since(t1);
    return ok && merged;
  } catch (const std::exception& e) {
    // The file list and the merge may no longer agree: the next load starts over.
    cache.clear();
    errors.push_back(manifest_issue{dir, 0, "", "", std::string("cannot read manifests: ") + e.what()});
    return false;
  }
}

bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors,
                   manifest_cache& cache) {
  out = service_set{};
  bool ok = load_service_changes(dir, errors, out.warnings, cache);
  if (ok) {
    out.warnings.clear();
    cache.index->warnings(out.warnings);
    cache.index->current_set(out.services);
    cache.index->acknowledge();
  }
  return ok;
}

}  // namespace kgw
