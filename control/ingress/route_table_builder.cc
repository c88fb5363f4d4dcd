// Builds the Ingress route table's blob (pipelines/l7/ingress/route_table_format.h)
// from a route set, in the control process.
#include "control/ingress/route_table_builder.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include <fmt/format.h>

#include "control/ingress/hs_compile.h"
#include "pipelines/l7/ingress/route_key_hash.h"
#include "pipelines/l7/ingress/route_table_format.h"

namespace kgw::ingress {

bool build_route_table(const route_set& rs, route_table& out, std::vector<manifest_error>& errors) {
  // Groups: one per distinct rule host (exact name, wildcard suffix, or none).
  struct host_entry {
    uint32_t exact = no_group, wildcard = no_group;
  };
  std::map<std::string, host_entry> hosts;
  uint32_t n_groups = 0;
  uint32_t any_group = no_group;
  std::vector<uint32_t> rule_group(rs.rules.size(), no_group);
  for (size_t i = 0; i < rs.rules.size(); i++) {
    const auto& r = rs.rules[i];
    if (r.shadowed) continue;
    if (r.host.empty()) {
      if (any_group == no_group) any_group = n_groups++;
      rule_group[i] = any_group;
    } else if (r.host.starts_with("*.")) {
      auto& e = hosts[r.host.substr(2)];
      if (e.wildcard == no_group) e.wildcard = n_groups++;
      rule_group[i] = e.wildcard;
    } else {
      auto& e = hosts[r.host];
      if (e.exact == no_group) e.exact = n_groups++;
      rule_group[i] = e.exact;
    }
  }

  // Path keys.
  struct path_entry {
    uint32_t group;
    std::string key;
    uint32_t exact = empty_slot, prefix = empty_slot;
  };
  std::map<std::pair<uint32_t, std::string>, path_entry> paths;
  std::vector<uint32_t> regex_rules;
  std::vector<group_info> ginfo(n_groups, group_info{0});
  uint32_t max_pieces = 1;
  bool ok = true;
  for (size_t i = 0; i < rs.rules.size(); i++) {
    const auto& r = rs.rules[i];
    if (r.shadowed) continue;
    if (r.kind == match_kind::regex) {
      regex_rules.push_back(uint32_t(i));
      ginfo[rule_group[i]].n_regex++;
      continue;
    }
    uint32_t pieces = 0;
    path_key_hash(r.path, pieces);
    if (pieces > max_path_pieces) {
      const auto& ing = rs.ingresses[r.ingress];
      errors.push_back({ing.file, r.line, ing.id(),
                        fmt::format("spec.rules[{}].http.paths[{}].path", r.rule_index, r.path_index),
                        fmt::format("path has more than {} '/'-separated segments", max_path_pieces), false});
      ok = false;
      continue;
    }
    max_pieces = std::max(max_pieces, pieces);
    auto& e = paths[{rule_group[i], r.path}];
    e.group = rule_group[i];
    e.key = r.path;
    uint32_t& slot = r.kind == match_kind::exact ? e.exact : e.prefix;
    if (slot == empty_slot) slot = uint32_t(i);
  }

  // Regex database.
  std::vector<std::byte> regex_db;
  if (!regex_rules.empty()) {
    std::vector<std::string> pats;
    std::vector<unsigned> flags;
    for (uint32_t ri : regex_rules) {
      pats.push_back(anchored_path_regex(rs.rules[ri].path));
      flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY);
    }
    hs_compile_failure fail;
    if (!hs_compile_serialized(pats, flags, regex_db, fail)) {
      if (fail.expression >= 0 && size_t(fail.expression) < regex_rules.size()) {
        const auto& r = rs.rules[regex_rules[size_t(fail.expression)]];
        const auto& ing = rs.ingresses[r.ingress];
        errors.push_back({ing.file, r.line, ing.id(),
                          fmt::format("spec.rules[{}].http.paths[{}].path", r.rule_index, r.path_index),
                          fmt::format("Hyperscan rejects the regular expression \"{}\": {}", r.path, fail.message),
                          false});
      } else {
        errors.push_back({"", 0, "", "", fmt::format("Hyperscan: {}", fail.message), false});
      }
      return false;
    }
  }
  if (!ok) return false;

  auto pow2 = [](size_t n) {
    size_t c = 16;
    while (c < n * 2) c <<= 1;
    return c;
  };
  const size_t host_cap = pow2(hosts.size());
  const size_t path_cap = pow2(paths.size());

  std::string strings;
  auto align = [](size_t v) { return (v + 63) / 64 * 64; };
  size_t off = align(sizeof(route_table_header));
  route_table_header hdr{};
  hdr.magic = table_magic;
  hdr.version = table_version;
  hdr.host_mask = uint32_t(host_cap - 1);
  hdr.host_off = uint32_t(off);
  off = align(off + host_cap * sizeof(host_slot));
  hdr.path_mask = uint32_t(path_cap - 1);
  hdr.path_off = uint32_t(off);
  off = align(off + path_cap * sizeof(path_slot));
  hdr.n_groups = n_groups;
  hdr.group_off = uint32_t(off);
  off = align(off + n_groups * sizeof(group_info));
  hdr.n_rules = uint32_t(rs.rules.size());
  hdr.backend_off = uint32_t(off);
  off = align(off + rs.rules.size() * 4);
  hdr.n_regex = uint32_t(regex_rules.size());
  hdr.regex_group_off = uint32_t(off);
  off = align(off + regex_rules.size() * 4);
  hdr.regex_rule_off = uint32_t(off);
  off = align(off + regex_rules.size() * 4);
  hdr.any_group = any_group;
  hdr.default_backend = rs.default_backend >= 0 ? uint32_t(rs.default_backend) : no_group;
  hdr.max_pieces = max_pieces;

  std::vector<host_slot> hslots(host_cap, host_slot{0, 0, empty_slot, no_group, no_group});
  for (const auto& [name, e] : hosts) {
    host_slot s{host_hash(name.data(), name.size()), uint32_t(strings.size()), uint32_t(name.size()), e.exact,
                e.wildcard};
    strings += name;
    uint32_t i = uint32_t(s.hash) & hdr.host_mask;
    while (hslots[i].len != empty_slot) i = (i + 1) & hdr.host_mask;
    hslots[i] = s;
  }
  std::vector<path_slot> pslots(path_cap, path_slot{0, 0, empty_slot, 0, empty_slot, empty_slot, 0});
  for (const auto& [k, e] : paths) {
    uint32_t pieces = 0;
    path_slot s{slot_hash(path_key_hash(e.key, pieces), e.group), uint32_t(strings.size()), uint32_t(e.key.size()),
                e.group, e.exact, e.prefix, 0};
    strings += e.key;
    uint32_t i = uint32_t(s.hash) & hdr.path_mask;
    while (pslots[i].len != empty_slot) i = (i + 1) & hdr.path_mask;
    pslots[i] = s;
  }
  hdr.strings_off = uint32_t(off);
  hdr.strings_len = uint32_t(strings.size());
  off = align(off + strings.size());
  hdr.regex_db_off = uint32_t(off);
  hdr.regex_db_len = uint32_t(regex_db.size());
  off = align(off + regex_db.size());
  hdr.total_size = off;

  std::vector<std::byte> blob(off);
  std::byte* b = blob.data();
  std::memcpy(b, &hdr, sizeof hdr);
  std::memcpy(b + hdr.host_off, hslots.data(), hslots.size() * sizeof(host_slot));
  std::memcpy(b + hdr.path_off, pslots.data(), pslots.size() * sizeof(path_slot));
  if (!ginfo.empty()) std::memcpy(b + hdr.group_off, ginfo.data(), ginfo.size() * sizeof(group_info));
  {
    std::vector<uint32_t> backends(rs.rules.size());
    for (size_t i = 0; i < rs.rules.size(); i++) backends[i] = rs.rules[i].backend;
    if (!backends.empty()) std::memcpy(b + hdr.backend_off, backends.data(), backends.size() * 4);
  }
  {
    std::vector<uint32_t> rg, rr;
    for (uint32_t ri : regex_rules) {
      rg.push_back(rule_group[ri]);
      rr.push_back(ri);
    }
    if (!rg.empty()) {
      std::memcpy(b + hdr.regex_group_off, rg.data(), rg.size() * 4);
      std::memcpy(b + hdr.regex_rule_off, rr.data(), rr.size() * 4);
    }
  }
  if (!strings.empty()) std::memcpy(b + hdr.strings_off, strings.data(), strings.size());
  if (!regex_db.empty()) std::memcpy(b + hdr.regex_db_off, regex_db.data(), regex_db.size());
  if (!out.attach(blob.data(), blob.size())) {
    errors.push_back({"", 0, "", "", "internal error: the built route table does not load", false});
    return false;
  }
  return true;
}

}  // namespace kgw::ingress
