#include "control/dns/dns_sources.h"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "control/services/service_model.h"

namespace kgw::dns {

namespace {

std::vector<service_port> ports_of(const std::vector<service_port_model>& ports) {
  std::vector<service_port> out;
  out.reserve(ports.size());
  for (const auto& p : ports) out.push_back({p.name, p.protocol, p.port});
  return out;
}

}  // namespace

std::vector<service_entry> services_of(const std::vector<std::shared_ptr<const parsed_file>>& files) {
  std::vector<service_entry> out;
  std::unordered_map<std::string, size_t> headless;  // ns/name -> index in out
  for (const auto& f : files) {
    if (!f) continue;
    for (const parsed_service& ps : f->services) {
      service_entry e;
      e.ns = ps.m.ns;
      e.name = ps.m.name;
      e.kind = service_kind::cluster_ip;
      e.cluster_ips = ps.m.cluster_ips;
      e.ports = ports_of(ps.m.ports);
      out.push_back(std::move(e));
    }
    for (const dns_only_service& d : f->dns_only) {
      service_entry e;
      e.ns = d.ns;
      e.name = d.name;
      e.kind = d.headless ? service_kind::headless : service_kind::external_name;
      e.external_name = d.external_name;
      e.ports = ports_of(d.ports);
      if (d.headless) headless[d.ns + "/" + d.name] = out.size();
      out.push_back(std::move(e));
    }
  }
  // A headless Service's endpoints: every slice's, in manifest order, each
  // address once (the first slice that lists it decides).
  std::unordered_map<size_t, std::unordered_set<std::string>> seen;
  for (const auto& f : files) {
    if (!f) continue;
    for (const parsed_slice& sl : f->slices) {
      auto it = headless.find(sl.service_key());
      if (it == headless.end()) continue;
      service_entry& e = out[it->second];
      auto& addrs = seen[it->second];
      for (size_t i = 0; i < sl.endpoints.size(); ++i) {
        const endpoint_model& em = sl.endpoints[i];
        std::string k(reinterpret_cast<const char*>(em.addr.b.data()), 16);
        k += static_cast<char>(em.addr.family);
        if (!addrs.insert(k).second) continue;
        e.endpoints.push_back({em.addr, i < sl.hostnames.size() ? sl.hostnames[i] : std::string(), em.ready});
      }
    }
  }
  return out;
}

bool services_of_dir(const std::string& dir, std::vector<service_entry>& out, std::string& error) {
  manifest_cache cache;
  service_set set;
  std::vector<manifest_issue> errors;
  if (!load_services(dir, set, errors, cache)) {
    error = fmt::format("DNS: the manifests in {} do not load ({} errors)", dir, errors.size());
    return false;
  }
  out = services_of(cache.in_order());
  return true;
}

zone_settings zone_settings_of(const gateway_config& cfg) {
  zone_settings z;
  z.zone = cfg.dns.zone;
  z.ttl = cfg.dns.ttl;
  z.addresses = cfg.dns.addresses;
  z.pods = cfg.dns.pods_insecure ? pods_insecure : pods_disabled;
  return z;
}

}  // namespace kgw::dns
