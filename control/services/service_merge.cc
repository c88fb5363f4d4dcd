// Every file's objects together: EndpointSlices resolved into the ports of
// their Services, duplicates across files, slices of no Service, and clashes
// of frontends and nodePorts, reported in the order of the full check.
#include "control/services/parsed_manifest.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "control/services/manifest_file.h"
#include "control/services/manifest_reader.h"

namespace kgw {

namespace {

using namespace manifest;

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
    auto& eps = sp.endpoints;
    for (const parsed_slice* s : slices) {
      for (const auto& slp : s->ports) {
        if (slp.name != sp.name || slp.protocol != sp.protocol) continue;
        ++matches;
        for (const auto& e : s->endpoints) {
          eps.push_back(e);
          eps.back().port = slp.port;
        }
      }
    }
    // One endpoint per (address, port): the first as the slices list it,
    // ready when any copy is. Sorted, then merged: no map node per endpoint.
    std::stable_sort(eps.begin(), eps.end(), endpoint_less);
    size_t kept = 0;
    for (size_t i = 0; i < eps.size(); ++i) {
      if (kept > 0 && !endpoint_less(eps[kept - 1], eps[i])) {
        eps[kept - 1].ready = eps[kept - 1].ready || eps[i].ready;
        continue;
      }
      if (kept != i) eps[kept] = std::move(eps[i]);
      ++kept;
    }
    eps.resize(kept);
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
      if (!st.skipped_services.count(key)) st.warnings->push_back(slice_orphaned(*s));
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

}  // namespace

// A slice is often written (or dumped) before its Service, or outlives it
// for a moment in a cluster dump: one slice cannot stop every other Service.
manifest_issue slice_orphaned(const parsed_slice& s) {
  return manifest_issue{s.file, s.label_line ? s.label_line : s.line, s.ns + "/" + s.name,
                        "metadata.labels[kubernetes.io/service-name]",
                        fmt::format("Service {} does not exist; EndpointSlice ignored", s.service_key())};
}

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

bool parse_services(const std::vector<std::pair<std::string, std::string>>& files, service_set& out,
                    std::vector<manifest_issue>& errors) {
  std::vector<std::shared_ptr<const parsed_file>> parsed;
  for (const auto& [file, text] : files) parsed.push_back(parse_manifest_file(file, text));
  bool ok = merge_files(parsed, out, errors);
  out.counts = count_files(parsed);
  return ok;
}

}  // namespace kgw
