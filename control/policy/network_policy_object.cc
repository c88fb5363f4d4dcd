// A networking.k8s.io/v1 NetworkPolicy, checked as the API server checks it
// (the parts that change what it allows), with v1's policyTypes defaulting.
#include <fmt/format.h>

#include "control/policy/object_readers.h"
#include "control/policy/prefix_set.h"
#include "dataplane/config/yaml/scalar.h"

namespace kgw::policy {

namespace {

std::optional<ip_prefix> read_cidr(manifest::ctx& c, yaml::node n, const std::string& field) {
  auto s = c.r.string(n, field);
  if (!s) return std::nullopt;
  auto p = parse_prefix(*s);
  if (!p) c.error(n, field, fmt::format("invalid CIDR \"{}\" (an address/length without host bits)", *s));
  return p;
}

std::optional<ip_block> read_ip_block(manifest::ctx& c, yaml::node n, const std::string& field) {
  if (!c.r.map(n, field)) return std::nullopt;
  c.r.unknown_keys(n, field, {"cidr", "except"});
  if (!n.get("cidr").present()) {
    c.error(n, field + ".cidr", "cidr is required");
    return std::nullopt;
  }
  auto cidr = read_cidr(c, n.get("cidr"), field + ".cidr");
  if (!cidr) return std::nullopt;
  ip_block b{*cidr, {}};
  bool ok = true;
  c.r.items(n.get("except"), field + ".except", [&](yaml::node e, const std::string& f) {
    auto p = read_cidr(c, e, f);
    if (!p) {
      ok = false;
    } else if (!prefix_contains(*cidr, *p)) {
      c.error(e, f, fmt::format("{} is not inside cidr {}", to_string(*p), to_string(*cidr)));
      ok = false;
    } else {
      b.except.push_back(*p);
    }
  });
  if (!ok) return std::nullopt;
  return b;
}

std::optional<policy_peer> read_peer(manifest::ctx& c, yaml::node n, const std::string& field) {
  if (!n.is_map()) {
    c.error(n, field, "expected a map");
    return std::nullopt;
  }
  c.r.unknown_keys(n, field, {"podSelector", "namespaceSelector", "ipBlock"});
  yaml::node pod = n.get("podSelector"), ns = n.get("namespaceSelector"), block = n.get("ipBlock");
  // `podSelector: {}` is present; `podSelector:` (null) is not, as the API server reads JSON's null.
  if (!pod.present() && !ns.present() && !block.present()) {
    c.error(n, field, "a peer needs podSelector, namespaceSelector or ipBlock");
    return std::nullopt;
  }
  if (block.present() && (pod.present() || ns.present())) {
    c.error(block, field + ".ipBlock", "ipBlock cannot be combined with podSelector or namespaceSelector");
    return std::nullopt;
  }
  policy_peer p;
  bool ok = true;
  if (pod.present() && !(p.pod_selector = read_selector(c, pod, field + ".podSelector"))) ok = false;
  if (ns.present() && !(p.namespace_selector = read_selector(c, ns, field + ".namespaceSelector"))) ok = false;
  if (block.present() && !(p.block = read_ip_block(c, block, field + ".ipBlock"))) ok = false;
  if (!ok) return std::nullopt;
  return p;
}

std::optional<policy_port> read_port(manifest::ctx& c, yaml::node n, const std::string& field) {
  if (!n.is_map()) {
    c.error(n, field, "expected a map");
    return std::nullopt;
  }
  c.r.unknown_keys(n, field, {"port", "protocol", "endPort"});
  policy_port pp;
  auto proto = manifest::parse_protocol(c, n, field + ".protocol");
  if (!proto) return std::nullopt;
  pp.proto = *proto;
  yaml::node port = n.get("port");
  // An IntOrString: a plain number is a port number; anything else a name
  // (a quoted "80" too, which no port name can be).
  if (port.present() && port.is_scalar() && port.plain() && yaml::decimal_text(port.text())) {
    auto v = c.r.integer(port, field + ".port", 1, 65535);
    if (!v) return std::nullopt;
    pp.port = uint16_t(*v);
  } else if (port.present()) {
    auto s = c.r.string(port, field + ".port");
    if (!s) return std::nullopt;
    if (auto why = manifest::check_port_name(*s); !why.empty()) {
      c.error(port, field + ".port", fmt::format("invalid port name \"{}\": {}", *s, why));
      return std::nullopt;
    }
    pp.name = *s;
  }
  yaml::node end = n.get("endPort");
  if (end.present()) {
    auto v = c.r.integer(end, field + ".endPort", 1, 65535);
    if (!v) return std::nullopt;
    if (pp.port == 0) {
      c.error(end, field + ".endPort", "endPort needs a numeric port");
      return std::nullopt;
    }
    if (*v < pp.port) {
      c.error(end, field + ".endPort", fmt::format("endPort {} is less than port {}", *v, pp.port));
      return std::nullopt;
    }
    pp.end_port = uint16_t(*v);
  }
  return pp;
}

// spec.ingress[i] or spec.egress[i]: `peers_key` is "from" or "to".
bool read_rule(manifest::ctx& c, yaml::node n, const std::string& field, const char* peers_key, policy_rule& r) {
  if (!n.is_map()) {
    if (n.is_null()) return true;  // `- {}` written as `-`: allow all
    c.error(n, field, "expected a map");
    return false;
  }
  c.r.unknown_keys(n, field, {peers_key, "ports"});
  bool ok = true;
  c.r.items(n.get(peers_key), field + "." + peers_key, [&](yaml::node p, const std::string& f) {
    if (auto peer = read_peer(c, p, f)) r.peers.push_back(std::move(*peer));
    else ok = false;
  });
  c.r.items(n.get("ports"), field + ".ports", [&](yaml::node p, const std::string& f) {
    if (auto port = read_port(c, p, f)) r.ports.push_back(std::move(*port));
    else ok = false;
  });
  if (n.get(peers_key).present() && !n.get(peers_key).is_sequence()) ok = false;
  if (n.get("ports").present() && !n.get("ports").is_sequence()) ok = false;
  return ok;
}

bool read_rules(manifest::ctx& c, yaml::node spec, const char* key, const char* peers_key,
                std::vector<policy_rule>& out) {
  bool ok = true;
  std::string field = std::string("spec.") + key;
  c.r.items(spec.get(key), field, [&](yaml::node n, const std::string& f) {
    policy_rule r;
    if (read_rule(c, n, f, peers_key, r)) out.push_back(std::move(r));
    else ok = false;
  });
  return ok && (!spec.get(key).present() || spec.get(key).is_sequence());
}

// policyTypes as given, or v1's default: Ingress always, Egress when the
// policy has egress rules.
bool read_policy_types(manifest::ctx& c, yaml::node spec, network_policy& p) {
  yaml::node types = spec.get("policyTypes");
  if (!types.present()) {
    p.ingress_type = true;
    p.egress_type = spec.get("egress").size() > 0;
    return true;
  }
  p.ingress_type = p.egress_type = false;
  bool ok = true;
  c.r.items(types, "spec.policyTypes", [&](yaml::node t, const std::string& f) {
    auto s = c.r.string(t, f);
    if (s && *s == "Ingress") p.ingress_type = true;
    else if (s && *s == "Egress") p.egress_type = true;
    else {
      if (s) c.error(t, f, fmt::format("unknown policy type \"{}\" (Ingress or Egress)", *s));
      ok = false;
    }
  });
  return ok && types.is_sequence();
}

}  // namespace

bool read_network_policy(manifest::ctx& c, yaml::node doc, network_policy& out) {
  yaml::node spec = doc.get("spec");
  if (!spec.present()) {
    c.error(doc, "spec", "spec is required");
    return false;
  }
  if (!c.r.map(spec, "spec")) return false;
  c.r.unknown_keys(spec, "spec", {"podSelector", "policyTypes", "ingress", "egress"});
  auto sel = read_selector(c, spec.get("podSelector"), "spec.podSelector");
  bool ok = sel.has_value();
  if (sel) out.pod_selector = std::move(*sel);
  ok &= read_policy_types(c, spec, out);
  ok &= read_rules(c, spec, "ingress", "from", out.ingress);
  ok &= read_rules(c, spec, "egress", "to", out.egress);
  return ok;
}

}  // namespace kgw::policy
