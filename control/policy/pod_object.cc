// A v1 Pod: what NetworkPolicy needs of it (labels, addresses, named ports).
#include <algorithm>

#include <fmt/format.h>

#include "control/policy/object_readers.h"

namespace kgw::policy {

namespace {

void read_container_ports(manifest::ctx& c, yaml::node spec, pod_object& out) {
  c.r.items(spec.get("containers"), "spec.containers", [&](yaml::node ctr, const std::string& cf) {
    std::string pf = cf + ".ports";
    c.r.items(ctr.get("ports"), pf, [&](yaml::node p, const std::string& f) {
      if (!p.is_map()) {
        c.error(p, f, "expected a map");
        return;
      }
      container_port cp;
      auto port = c.r.integer(p.get("containerPort"), f + ".containerPort", 1, 65535);
      if (!port) {
        if (!p.get("containerPort").present()) c.error(p, f + ".containerPort", "containerPort is required");
        return;
      }
      cp.port = uint16_t(*port);
      auto proto = manifest::parse_protocol(c, p, f + ".protocol");
      if (!proto) return;
      cp.proto = *proto;
      if (auto name = c.r.string(p.get("name"), f + ".name")) {
        if (auto why = manifest::check_port_name(*name); !why.empty()) {
          c.error(p.get("name"), f + ".name", fmt::format("invalid port name \"{}\": {}", *name, why));
          return;
        }
        cp.name = *name;
      }
      out.ports.push_back(std::move(cp));
    });
  });
}

void add_ip(manifest::ctx& c, yaml::node n, const std::string& field, pod_object& out) {
  auto a = manifest::get_ip(c, n, field);
  if (a && std::find(out.ips.begin(), out.ips.end(), *a) == out.ips.end()) out.ips.push_back(*a);
}

}  // namespace

void read_pod(manifest::ctx& c, yaml::node doc, pod_object& out) {
  yaml::node meta = doc.get("metadata");
  out.labels = read_labels(c, meta);
  yaml::node spec = doc.get("spec");
  if (c.r.map(spec, "spec")) {
    if (auto node = c.r.string(spec.get("nodeName"), "spec.nodeName")) out.node_name = *node;
    read_container_ports(c, spec, out);
  }
  yaml::node status = doc.get("status");
  if (!c.r.map(status, "status")) return;
  // podIPs holds podIP first (the API server keeps them so): read podIP only
  // when podIPs is absent.
  yaml::node ips = status.get("podIPs");
  if (ips.present()) {
    c.r.items(ips, "status.podIPs", [&](yaml::node e, const std::string& f) {
      if (!e.is_map()) c.error(e, f, "expected a map with ip");
      else add_ip(c, e.get("ip"), f + ".ip", out);
    });
  } else if (status.get("podIP").present()) {
    add_ip(c, status.get("podIP"), "status.podIP", out);
  }
}

}  // namespace kgw::policy
