// A discovery.k8s.io/v1 EndpointSlice: the Service it belongs to (its
// label), address type, endpoints with their conditions, and ports.
#include "control/services/kubernetes_objects.h"

#include <fmt/format.h>

namespace kgw::manifest {

void parse_endpoint_slice(ctx& c, const YAML::Node& doc, parsed_file& st, const std::string& ns,
                          const std::string& name) {
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

}  // namespace kgw::manifest
