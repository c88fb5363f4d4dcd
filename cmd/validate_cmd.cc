// kgw validate -c gateway.yaml [--profiles DIR] [--manifests DIR]

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "cmd/common.h"
#include "cmd/subcommands.h"
#include "dataplane/config/nic_profile.h"
#include "control/ingress/ingress_model.h"
#include "control/ingress/route_table_builder.h"
#include "control/policy/policy_compiler.h"
#include "control/services/node_merge.h"
#include "control/services/service_compiler.h"
#include "control/tls/tls_certificates.h"
#include "dataplane/tls_settings.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw validate [-c gateway.yaml] [--profiles DIR] [--manifests DIR]\n"
    "\n"
    "Checks a gateway config, the NIC profiles and Kubernetes manifests without\n"
    "starting anything. Every error is printed with its file and line; the exit\n"
    "code is 0 when all is valid, 1 otherwise.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway config to check\n"
    "      --profiles DIR     NIC profile directory to check (default: as kgw dataplane finds it)\n"
    "  -m, --manifests DIR    Services and EndpointSlices to validate and compile, as kgw control\n"
    "                         would (with -c: its node addresses, SNAT and services settings;\n"
    "                         without: defaults, so NodePorts get no frontend), Ingresses and\n"
    "                         IngressClasses as kgw route-check reads them, the TLS Secrets they\n"
    "                         name (with -c: ingress.default_certificate), and Pods, Namespaces\n"
    "                         and NetworkPolicies as kgw policy-check reads them; prints what\n"
    "                         they compile to and how long it took\n"
    "  -h, --help             this text\n";
}  // namespace

int validate_main(int argc, char** argv) {
  std::string config, profiles, manifests;
  parse_flags("validate", argc, argv, {{"config", 'c', &config}, {"profiles", 0, &profiles}, {"manifests", 'm', &manifests}},
              help);
  int failures = 0;
  std::optional<gateway_config> cfg;
  if (!config.empty()) {
    cfg = load_config_or_report(config);
    if (!cfg) failures++;
  }
  if (cfg) {
    std::string why;
    if (!tls::check_settings(tls_settings_of(*cfg), why)) {
      fmt::print(stderr, "error: {}: {}\n", cfg->file, why);
      failures++;
    }
  }
  std::string dir = resolve_profiles_dir(cfg ? &*cfg : nullptr, profiles);
  std::vector<config_error> errors;
  auto all = load_nic_profiles(dir, errors);
  for (const auto& e : errors) fmt::print(stderr, "error: {}\n", e.to_string());
  if (!errors.empty()) failures++;
  if (cfg) {
    for (const auto& p : cfg->ports) {
      if (p.profile != "auto" && !profile_by_name(all, p.profile)) {
        fmt::print(stderr, "error: {}:{}: ports.{}.profile: no NIC profile \"{}\" in {}\n", cfg->file, p.line, p.name,
                   p.profile, dir);
        failures++;
      }
    }
  }
  std::string compiled;
  if (!manifests.empty()) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> merrors, warnings;
    std::vector<compiled_service> records;
    manifest_counts counts;
    std::string tls_info, policy_info, pods_info;
    bool ok = compile_manifests(cfg ? *cfg : gateway_config{}, manifests, records, merrors, warnings, nullptr, nullptr,
                                &counts);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // The Ingress side, read exactly as kgw route-check and the router read
    // it. What the YAML front end finds (syntax, duplicate keys, merges) and
    // kinds in a version kgw does not read, the Services side has said already.
    {
      ingress::manifest_set objects;
      std::vector<ingress::manifest_error> ierrors;
      ingress::load_manifests(manifests, objects, ierrors);
      ingress::route_set rs = ingress::build_route_set(objects, ierrors);
      auto fatal = [&] {
        return std::any_of(ierrors.begin(), ierrors.end(), [](const auto& e) { return !e.warning; });
      };
      if (!fatal()) {
        ingress::route_table table;
        ingress::build_route_table(rs, table, ierrors);
      }
      // The certificates, as control publishes them to the dataplane.
      tls::default_certificate_ref def;
      if (cfg) def = {cfg->ingress.default_certificate, cfg->file, cfg->ingress.default_certificate_line};
      tls::certificate_set certs = tls::build_certificate_set(
          objects, rs, def, cfg ? tls_settings_of(*cfg) : tls::tls_settings{},
          std::chrono::duration_cast<std::chrono::seconds>(
                                                     std::chrono::system_clock::now().time_since_epoch()).count(),
          ierrors);
      if (certs.tls_secrets || !certs.hosts.empty() || !def.name.empty())
        tls_info = "tls: " + certs.summary();
      auto said = [](const ingress::manifest_error& e) {
        return e.message.starts_with("YAML: ") || e.message.starts_with("duplicate key \"") ||
               e.message.starts_with("a merge key (<<)") ||
               e.message.find("is not supported (kgw reads") != std::string::npos;
      };
      for (const auto& e : ierrors) {
        if (said(e)) continue;
        ingress::manifest_error plain = e;  // the level leads the printed line instead
        plain.warning = false;
        (e.warning ? warnings : merrors).push_back(plain.to_string());
        if (!e.warning) ok = false;
      }
      for (const auto& c : rs.conflicts) warnings.push_back("Ingress conflict: " + c);
      for (const auto& c : certs.conflicts) warnings.push_back("TLS conflict: " + c);
    }
    // The NetworkPolicy side (Pods, Namespaces, NetworkPolicies), read as
    // kgw policy-check reads it; YAML syntax the Services side has reported.
    {
      policy::policy_manifests objects;
      std::vector<manifest_issue> perrors, pwarnings;
      policy::load_policy_manifests(manifests, objects, perrors, pwarnings);
      for (const auto& w : pwarnings) warnings.push_back(w.to_string());
      for (const auto& e : perrors) {
        if (e.message.starts_with("invalid YAML: ")) continue;
        merrors.push_back(e.to_string());
        ok = false;
      }
      if (perrors.empty() && !objects.policies.empty())
        policy_info = fmt::format("policy: {} NetworkPolicies, {} Pods: {} classifier rules", objects.policies.size(),
                                  objects.pods.size(), policy::compile_policies(objects).rules.size());
    }
    // The Nodes against each other (pod CIDRs with one owner each), as control publishes them.
    if (ok) {
      manifest_cache cache;
      service_set set;
      std::vector<manifest_issue> nerrors;
      pod_network_model pods;
      if (load_services(manifests, set, nerrors, cache) && merge_nodes(cache.in_order(), pods, nerrors)) {
        if (!pods.nodes.empty()) pods_info = fmt::format("pod network: {} Nodes, {} pod CIDRs", pods.nodes.size(), pods.n_cidrs);
      } else {
        for (const auto& e : nerrors) merrors.push_back(e.to_string());
        ok = false;
      }
    }
    for (const auto& l : counts.info_lines()) fmt::print(stderr, "info: {}\n", l);
    if (!tls_info.empty()) fmt::print(stderr, "info: {}\n", tls_info);
    if (!policy_info.empty()) fmt::print(stderr, "info: {}\n", policy_info);
    if (!pods_info.empty()) fmt::print(stderr, "info: {}\n", pods_info);
    for (const auto& w : limit_repeats(warnings)) fmt::print(stderr, "warning: {}\n", w);
    for (const auto& e : limit_repeats(merrors)) fmt::print(stderr, "error: {}\n", e);
    // The last line: what was found, whatever the outcome.
    fmt::print(stderr, "{}: {} error{}, {} warning{}; objects: {}\n", manifests, merrors.size(),
               merrors.size() == 1 ? "" : "s", warnings.size(), warnings.size() == 1 ? "" : "s", counts.by_kind());
    if (!ok) {
      failures++;
    } else {
      compiled_totals t = totals_of(records);
      compiled = fmt::format("; {}: {} Services, {} Service ports, {} endpoints, {} KiB of records, compiled in {:.1f} ms",
                             manifests, t.services, t.groups, t.endpoints, t.bytes / 1024, ms);
    }
  }
  if (failures) return 1;
  fmt::print("ok: {}{} NIC profiles in {}{}\n", config.empty() ? "" : config + " valid; ", all.size(), dir, compiled);
  return 0;
}

}  // namespace kgw
