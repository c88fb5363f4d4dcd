#include "control/ingress/route_stat_slots.h"

#include <cstring>
#include <map>
#include <string_view>

#include "pipelines/l7/proxy/route_stats.h"

namespace kgw::ingress {

namespace {

// Copies `v` into a fixed field, cut to fit (marked in the label).
template <size_t N>
void put(char (&field)[N], std::string_view v, route_stat_label& l) {
  size_t n = v.size() < N - 1 ? v.size() : N - 1;
  if (n < v.size()) l.truncated = 1;
  std::memcpy(field, v.data(), n);
  field[n] = 0;
}

const char* path_type_name(match_kind k) {
  switch (k) {
    case match_kind::exact: return "Exact";
    case match_kind::prefix: return "Prefix";
    default: return "ImplementationSpecific";
  }
}

// What makes two labels the same route: every field but slot and epoch.
std::string key_of(const route_stat_label& l) {
  std::string k;
  for (std::string_view f : {std::string_view(l.path_type), std::string_view(l.ns), std::string_view(l.ingress),
                             std::string_view(l.host), std::string_view(l.path), std::string_view(l.service)}) {
    k += f;
    k += '\0';
  }
  k += std::to_string(l.service_port);
  k += '\0';
  k += static_cast<char>('0' + l.kind);
  return k;
}

route_stat_label backend_label(const route_set& rs, uint32_t ingress, uint32_t backend) {
  route_stat_label l{};
  if (ingress < rs.ingresses.size()) {
    put(l.ns, rs.ingresses[ingress].ns, l);
    put(l.ingress, rs.ingresses[ingress].name, l);
  }
  if (backend < rs.backends.size()) {
    put(l.service, rs.backends[backend].service, l);
    l.service_port = static_cast<uint16_t>(rs.backends[backend].port);
  }
  return l;
}

}  // namespace

route_stat_label label_of_rule(const route_set& rs, uint32_t rule) {
  const route_rule& r = rs.rules[rule];
  route_stat_label l = backend_label(rs, r.ingress, r.backend);
  l.kind = route_label_rule;
  put(l.path_type, path_type_name(r.kind), l);
  put(l.host, r.host, l);
  put(l.path, r.written_path, l);
  return l;
}

route_stat_label label_of_default(const route_set& rs) {
  route_stat_label l = backend_label(rs, rs.default_ingress, static_cast<uint32_t>(rs.default_backend));
  l.kind = route_label_default;
  return l;
}

slot_assignment assign_route_slots(const route_set& rs, const ingress_publication* running, uint32_t capacity) {
  using proxy::route_slots_fixed;
  slot_assignment out;
  out.cursor = running ? running->slot_cursor : route_slots_fixed;
  if (out.cursor < route_slots_fixed || out.cursor >= capacity) out.cursor = route_slots_fixed;
  out.next_epoch = running && running->next_epoch > proxy::route_fixed_epoch ? running->next_epoch
                                                                               : proxy::route_fixed_epoch + 1;
  std::map<std::string, route_slot_ref> kept;  // what runs now, by labels
  if (running)
    for (uint32_t i = 0; i < running->n_labels; ++i) {
      const route_stat_label& l = running->labels()[i];
      if (l.slot >= route_slots_fixed && l.slot < capacity) kept.emplace(key_of(l), route_slot_ref{l.slot, l.epoch});
    }
  std::map<std::string, route_slot_ref> now;  // this assignment, by labels
  std::vector<bool> taken(capacity > route_slots_fixed ? capacity : route_slots_fixed, false);
  std::vector<std::pair<std::string, route_stat_label>> fresh;
  // Routes that keep their slot first, so a new route never takes one of them.
  auto want = [&](const route_stat_label& l) {
    std::string k = key_of(l);
    if (now.count(k)) return;
    auto it = kept.find(k);
    if (it != kept.end()) {
      now.emplace(k, it->second);
      taken[it->second.slot] = true;
      route_stat_label x = l;
      x.slot = it->second.slot;
      x.epoch = it->second.epoch;
      out.labels.push_back(x);
    } else {
      now.emplace(k, route_slot_ref{proxy::route_slot_overflow, proxy::route_fixed_epoch});
      fresh.emplace_back(k, l);
    }
  };
  for (uint32_t i = 0; i < rs.rules.size(); ++i) want(label_of_rule(rs, i));
  if (rs.default_backend >= 0) want(label_of_default(rs));
  for (auto& [k, l] : fresh) {
    uint32_t span = capacity > route_slots_fixed ? capacity - route_slots_fixed : 0;
    uint32_t slot = 0;
    for (uint32_t t = 0; t < span && !slot; ++t) {
      uint32_t c = route_slots_fixed + (out.cursor - route_slots_fixed + t) % span;
      if (!taken[c]) slot = c;
    }
    if (!slot) continue;  // none free: the overflow slot it has
    taken[slot] = true;
    out.cursor = slot + 1 < capacity ? slot + 1 : route_slots_fixed;
    l.slot = slot;
    l.epoch = out.next_epoch++;
    now[k] = route_slot_ref{l.slot, l.epoch};
    out.labels.push_back(l);
  }
  out.rules.reserve(rs.rules.size());
  for (uint32_t i = 0; i < rs.rules.size(); ++i) {
    route_slot_ref r = now[key_of(label_of_rule(rs, i))];
    if (r.slot == proxy::route_slot_overflow) out.overflowed++;
    out.rules.push_back(r);
  }
  if (rs.default_backend >= 0) {
    out.default_slot = now[key_of(label_of_default(rs))];
    if (out.default_slot.slot == proxy::route_slot_overflow) out.overflowed++;
  }
  return out;
}

}  // namespace kgw::ingress
