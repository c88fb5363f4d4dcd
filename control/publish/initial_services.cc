#include "control/publish/initial_services.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "control/dns/dns_sources.h"
#include "control/publish/published_dns.h"
#include "control/publish/published_ingress.h"
#include "control/publish/published_pod_routes.h"
#include "control/publish/published_services.h"
#include "control/publish/published_tls.h"
#include "control/services/service_compiler.h"
#include "dataplane/log.h"

namespace kgw {

namespace {

bool publish_initial(directory_publisher& p, const std::vector<compiled_service>& compiled, const ingress_sources& src,
                     const gateway_config& cfg, const std::vector<dns::service_entry>* names, std::string& error) {
  service_directory& d = *p.directory();
  published_services book;
  book.adopt(d);
  change_stats stats;
  service_change_set* c = book.diff(compiled, d, error, stats);
  if (!c && !error.empty()) return false;
  if (c) {
    if (!p.apply(c, error)) {
      book.abandon(c);
      return false;
    }
    book.commit(d.number);
  }
  ingress_build ib;
  if (!build_ingress_publication(src, [&](const std::string& n) { return book.slot_of(n); },
                                 route_stat_source{nullptr, cfg.ingress.max_route_stats}, ib, error))
    return false;
  for (const auto& w : ib.warnings) log_warn("{}", w);
  if (ib.pub && !p.apply_ingress(ib.pub, error)) {
    free_ingress_publication(ib.pub);
    return false;
  }
  if (!names) return true;
  std::vector<std::string> warnings;
  dns::table* t = build_dns_publication(cfg, *names, warnings, error);
  for (const auto& w : limit_repeats(warnings)) log_warn("{}", w);
  if (!t) return false;
  if (!p.apply_dns(t, error)) {
    free_dns_publication(t);
    return false;
  }
  return true;
}

bool publish_initial_tls(tls_runtime& t, const gateway_config& cfg, const ingress_sources& src, std::string& error) {
  tls_build tb;
  if (!build_tls_publication(src, cfg, tb, error)) return false;
  if (!t.apply(tb.pub, error)) {
    free_tls_publication(tb.pub);
    return false;
  }
  return true;
}

// The Nodes of `dir` checked together now (overlapping pod CIDRs stop the
// start as an invalid Service does), and the hook that publishes them.
bool initial_pod_routes_from(const std::string& dir, initial_pod_routes_publish& out, std::string& error) {
  auto cache = std::make_shared<manifest_cache>();
  service_set set;
  std::vector<manifest_issue> errors;
  auto model = std::make_shared<pod_network_model>();
  if (!load_services(dir, set, errors, *cache) || !merge_nodes(cache->in_order(), *model, errors)) {
    error = fmt::format("{} invalid Node(s) in {}:", errors.size(), dir);
    for (const auto& e : errors) error += "\n  " + e.to_string();
    return false;
  }
  if (model->nodes.empty()) return true;
  log_info("pod network: {} Nodes, {} pod CIDRs", model->nodes.size(), model->n_cidrs);
  out = [cache, model](pod_route_publisher& p, std::string& e) {
    pod_route_list* l = build_pod_route_list(*model, e);
    if (!l) return false;
    if (!p.apply(l, e)) {
      free_pod_route_list(l);
      return false;
    }
    return true;
  };
  return true;
}

}  // namespace

bool initial_services_from(const gateway_config& cfg, const std::string& dir, service_runtime::initial_publish& out,
                           std::string& error, bool* has_ingress, initial_tls_publish* tls_out,
                           initial_pod_routes_publish* pods_out) {
  auto compiled = std::make_shared<std::vector<compiled_service>>();
  std::vector<std::string> errors, warnings;
  manifest_counts counts;
  bool ok = compile_manifests(cfg, dir, *compiled, errors, warnings, nullptr, nullptr, &counts);
  for (const auto& l : counts.info_lines()) log_info("{}: {}", dir, l);
  for (const auto& w : limit_repeats(warnings)) log_warn("{}", w);
  if (!ok) {
    error = fmt::format("{} invalid manifest(s) in {}:", errors.size(), dir);
    for (const auto& e : limit_repeats(errors)) error += "\n  " + e;
    return false;
  }
  compiled_totals t = totals_of(*compiled);
  log_info("services: {} Services, {} groups, {} endpoints, {} KiB of records ({:.0f} bytes per Service)",
           t.services, t.groups, t.endpoints, t.bytes / 1024, t.services ? double(t.bytes) / t.services : 0.0);
  // Checked now, before the dataplane starts: an invalid Ingress stops it
  // like an invalid Service does, and the listeners depend on the answer.
  auto src = std::make_shared<ingress_sources>();
  if (!load_ingress_sources(dir, *src, error)) return false;
  ingress_build probe;
  if (!build_ingress_publication(*src, [](const std::string&) { return ingress_no_slot; }, route_stat_source{}, probe,
                                 error, true))
    return false;
  if (has_ingress) *has_ingress = probe.n_ingresses > 0;
  if (probe.n_ingresses) log_info("ingress: {} Ingresses, {} routes", probe.n_ingresses, probe.n_rules);
  // Certificates too: an invalid TLS Secret stops the start as an invalid
  // Ingress does.
  tls_build tls_probe;
  if (!build_tls_publication(*src, cfg, tls_probe, error, true)) return false;
  for (const auto& w : tls_probe.warnings) log_warn("{}", w);
  log_info("tls: {}", tls_probe.summary);
  // The DNS names from the same directory, read again for what the L4 path
  // skips (headless and ExternalName Services, hostnames).
  std::shared_ptr<std::vector<dns::service_entry>> names;
  if (!cfg.dns.addresses.empty()) {
    names = std::make_shared<std::vector<dns::service_entry>>();
    if (!dns::services_of_dir(dir, *names, error)) return false;
  }
  if (pods_out && !initial_pod_routes_from(dir, *pods_out, error)) return false;
  const gateway_config* c = &cfg;
  out = [compiled, src, c, names](directory_publisher& p, std::string& e) {
    return publish_initial(p, *compiled, *src, *c, names.get(), e);
  };
  if (tls_out)
    *tls_out = [cfg, src](tls_runtime& rt, std::string& e) { return publish_initial_tls(rt, cfg, *src, e); };
  return true;
}

}  // namespace kgw
