// A discovery.k8s.io/v1 EndpointSlice: the Service it belongs to (its
// label), address type, endpoints with their conditions, and ports.
#include "control/services/kubernetes_objects.h"

#include <fmt/format.h>

namespace kgw::manifest {

void parse_endpoint_slice(ctx& c, yaml::node doc, parsed_file& st, const std::string& ns,
                          const std::string& name) {
  parsed_slice s;
  s.ns = ns;
  s.name = name;
  s.file = c.file;
  s.line = doc.line();

  yaml::node meta = doc.get("metadata");
  yaml::node labels = meta.get("labels");
  bool have_label = false;
  if (c.r.map(labels, "metadata.labels")) {
    yaml::node l = labels.get("kubernetes.io/service-name");
    if (l.present()) {
      if (!l.is_scalar() || l.text().empty()) {
        c.error(l, "metadata.labels[kubernetes.io/service-name]", "expected a Service name");
      } else {
        s.service = l.text();
        s.label_line = l.line();
        have_label = true;
      }
    }
  }
  if (!have_label && !(labels.get("kubernetes.io/service-name").present())) {
    c.error(labels.is_map() ? labels : meta, "metadata.labels",
            "missing label kubernetes.io/service-name (the Service this EndpointSlice belongs to)");
  }

  yaml::node at_n = doc.get("addressType");
  bool skip = false;
  s.address_type_line = at_n.line();
  auto at = c.r.string(at_n, "addressType");
  if (!at_n.present()) {
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

  yaml::node eps = doc.get("endpoints");
  if (c.r.sequence(eps, "endpoints")) {
    s.endpoints.reserve(eps.size());
    for (size_t i = 0; i < eps.size(); ++i) {
      const yaml::node e = eps.item(i);
      const std::string f = yaml::reader::index("endpoints", i);
      if (!e.is_map()) {
        c.error(e, f, "expected a map");
        continue;
      }
      endpoint_model em;
      bool have_addr = false;
      yaml::node addrs = e.get("addresses");
      const bool addrs_ok = c.r.sequence(addrs, yaml::path(f, ".addresses"));
      if (addrs_ok) {
        for (size_t j = 0; j < addrs.size(); ++j) {
          const yaml::path af(f, ".addresses", j);
          auto a = get_ip(c, addrs.item(j), af);
          if (!a) continue;
          if (!skip && a->family != s.family) {
            c.error(addrs.item(j), af,
                    fmt::format("address {} is {} but addressType is {}", addrs.item(j).text(),
                                family_name(a->family), family_name(s.family)));
            continue;
          }
          if (j == 0) {
            em.addr = *a;
            have_addr = true;
            // inet_pton takes IPv4 in its canonical form only: the text is what
            // to_string would print, at a tenth of the cost (100,000 endpoints).
            if (a->is_v4()) em.target = addrs.item(j).text();
          }
        }
        if (addrs.size() > 1)
          c.warn(addrs, yaml::path(f, ".addresses"),
                 "only the first address of an endpoint is used (as kube-proxy does)");
      }
      if (!addrs.present() || (addrs_ok && addrs.size() == 0))
        c.error(e, yaml::path(f, ".addresses"), "at least one address is required");

      yaml::node cond = e.get("conditions");
      if (c.r.map(cond, yaml::path(f, ".conditions"))) {
        auto r = c.r.boolean(cond.get("ready"), yaml::path(f, ".conditions.ready"));
        auto sv = c.r.boolean(cond.get("serving"), yaml::path(f, ".conditions.serving"));
        auto t = c.r.boolean(cond.get("terminating"), yaml::path(f, ".conditions.terminating"));
        em.ready = r.value_or(true);
        em.serving = sv.value_or(em.ready);
        em.terminating = t.value_or(false);
      }
      if (auto n = c.r.string(e.get("nodeName"), yaml::path(f, ".nodeName"))) em.node_name = *n;
      yaml::node tr = e.get("targetRef");
      if (c.r.map(tr, yaml::path(f, ".targetRef"))) {
        auto tns = c.r.string(tr.get("namespace"), yaml::path(f, ".targetRef.namespace"));
        auto tn = c.r.string(tr.get("name"), yaml::path(f, ".targetRef.name"));
        if (tn && !tn->empty())
          em.target = fmt::format("{}/{}", tns && !tns->empty() ? *tns : std::string_view(ns), *tn);
      }
      if (em.target.empty() && have_addr) em.target = to_string(em.addr);
      // Read for DNS (<hostname>.<service>.<ns>.svc.<zone>); checked there.
      auto host = c.r.string(e.get("hostname"), yaml::path(f, ".hostname"));
      if (have_addr) {
        s.endpoints.push_back(std::move(em));
        s.hostnames.emplace_back(host ? std::string(*host) : std::string());
      }
    }
  }

  yaml::node ports = doc.get("ports");
  if (c.r.sequence(ports, "ports")) {
    for (size_t i = 0; i < ports.size(); ++i) {
      const yaml::node p = ports.item(i);
      const std::string f = yaml::reader::index("ports", i);
      if (!p.is_map()) {
        c.error(p, f, "expected a map");
        continue;
      }
      slice_port sp;
      bool ok = true;
      if (auto n = c.r.string(p.get("name"), yaml::path(f, ".name"))) sp.name = *n;
      if (auto pr = parse_protocol(c, p, yaml::path(f, ".protocol"))) sp.protocol = *pr;
      else ok = false;
      yaml::node pn = p.get("port");
      if (!pn.present()) {
        c.warn(p, yaml::path(f, ".port"), "port absent (\"all ports\") is not supported; entry skipped");
        ok = false;
      } else if (auto v = c.r.integer(pn, yaml::path(f, ".port"), 1, 65535)) {
        sp.port = static_cast<uint16_t>(*v);
      } else {
        ok = false;
      }
      c.r.string(p.get("appProtocol"), yaml::path(f, ".appProtocol"));
      if (ok) s.ports.push_back(std::move(sp));
    }
  }
  if (!skip && have_label) st.slices.push_back(std::move(s));
}

}  // namespace kgw::manifest
