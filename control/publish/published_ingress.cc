#include "control/publish/published_ingress.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <cstring>

#include "control/ingress/ingress_model.h"
#include "control/ingress/route_stat_slots.h"
#include "control/ingress/route_table_builder.h"

namespace kgw {

bool load_ingress_sources(const std::string& manifests, ingress_sources& out, std::string& error) {
  out = {};
  if (!ingress::load_manifests(manifests, out.objects, out.issues)) {
    error = fmt::format("ingress: cannot read {}", manifests);
    return false;
  }
  out.routes = ingress::build_route_set(out.objects, out.issues);
  return true;
}

bool build_ingress_publication(const ingress_sources& src, const std::function<uint32_t(const std::string&)>& slot_of,
                               const route_stat_source& stats, ingress_build& out, std::string& error,
                               bool check_only) {
  out = {};
  const ingress::route_set& rs = src.routes;
  std::vector<ingress::manifest_error> errors = src.issues;
  ingress::route_table table;
  bool built = rs.ingresses.empty() || ingress::build_route_table(rs, table, errors);
  std::string fatal;
  for (const auto& e : errors) {
    if (e.warning)
      out.warnings.push_back(e.to_string());
    else
      fatal += (fatal.empty() ? "" : "\n  ") + e.to_string();
  }
  for (const auto& c : rs.conflicts) out.warnings.push_back("ingress conflict: " + c);
  // Only the manifests YAML cannot read fail here: the Services' compile has
  // already refused those, so an error of this list is about an Ingress.
  if (!fatal.empty() || !built) {
    error = "invalid Ingress manifests:\n  " + (fatal.empty() ? std::string("route table not built") : fatal);
    return false;
  }
  if (rs.ingresses.empty()) return true;
  out.n_ingresses = static_cast<uint32_t>(rs.ingresses.size());
  out.n_rules = static_cast<uint32_t>(rs.rules.size());
  if (check_only) return true;
  size_t backends_off = sizeof(ingress_publication);
  size_t table_off = (backends_off + rs.backends.size() * sizeof(ingress_backend) + 63) / 64 * 64;
  size_t flags_off = table_off + table.blob_size();
  ingress::slot_assignment slots = ingress::assign_route_slots(rs, stats.running, stats.capacity);
  out.overflowed = slots.overflowed;
  size_t slots_off = (flags_off + rs.rules.size() + 7) / 8 * 8;
  size_t labels_off = slots_off + rs.rules.size() * sizeof(route_slot_ref);
  size_t total = labels_off + slots.labels.size() * sizeof(route_stat_label);
  auto* p = static_cast<ingress_publication*>(rte_zmalloc("kgw_ingress", total, 64));
  if (!p) {
    error = fmt::format("ingress: cannot allocate {} bytes of shared memory for the routes", total);
    return false;
  }
  p->magic = ingress_publication_magic;
  p->total_size = total;
  p->n_backends = static_cast<uint32_t>(rs.backends.size());
  p->backends_off = static_cast<uint32_t>(backends_off);
  p->table_off = static_cast<uint32_t>(table_off);
  p->table_len = static_cast<uint32_t>(table.blob_size());
  p->n_rules = out.n_rules;
  p->has_default = rs.default_backend >= 0;
  p->flags_off = static_cast<uint32_t>(flags_off);
  auto route_flags = [&](uint32_t ingress) -> uint8_t {
    return ingress < rs.ingresses.size() && !rs.ingresses[ingress].ssl_redirect ? ingress_route_no_ssl_redirect : 0;
  };
  auto* flags = reinterpret_cast<uint8_t*>(p) + flags_off;
  for (size_t i = 0; i < rs.rules.size(); ++i) flags[i] = route_flags(rs.rules[i].ingress);
  p->default_flags = rs.default_backend >= 0 ? route_flags(rs.default_ingress) : 0;
  p->slots_off = static_cast<uint32_t>(slots_off);
  p->default_slot = slots.default_slot;
  p->n_labels = static_cast<uint32_t>(slots.labels.size());
  p->labels_off = static_cast<uint32_t>(labels_off);
  p->slot_cursor = slots.cursor;
  p->next_epoch = slots.next_epoch;
  p->overflowed = slots.overflowed;
  if (!slots.rules.empty())
    std::memcpy(reinterpret_cast<uint8_t*>(p) + slots_off, slots.rules.data(), slots.rules.size() * sizeof(route_slot_ref));
  if (!slots.labels.empty())
    std::memcpy(reinterpret_cast<uint8_t*>(p) + labels_off, slots.labels.data(),
                slots.labels.size() * sizeof(route_stat_label));
  auto* b = reinterpret_cast<ingress_backend*>(reinterpret_cast<uint8_t*>(p) + backends_off);
  for (size_t i = 0; i < rs.backends.size(); ++i) {
    const ingress::resolved_backend& r = rs.backends[i];
    std::string name = r.ns + "/" + r.service;
    std::snprintf(b[i].service, sizeof b[i].service, "%s", name.c_str());
    b[i].port = static_cast<uint16_t>(r.port);
    b[i].slot = slot_of(name);
  }
  std::memcpy(reinterpret_cast<uint8_t*>(p) + table_off, table.blob(), table.blob_size());
  out.pub = p;
  return true;
}

bool same_ingress(const ingress_publication* a, const ingress_publication* b) {
  if (!a || !b) return a == b;
  if (a->total_size != b->total_size) return false;
  constexpr size_t skip = offsetof(ingress_publication, total_size);
  return std::memcmp(reinterpret_cast<const uint8_t*>(a) + skip, reinterpret_cast<const uint8_t*>(b) + skip,
                     a->total_size - skip) == 0;
}

void free_ingress_publication(ingress_publication* p) { rte_free(p); }

}  // namespace kgw
