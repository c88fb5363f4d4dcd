// All-Hyperscan engine (benchmark and differential tests).
#include "control/ingress/hs_engine.h"

#include <fmt/format.h>

#include "control/ingress/hs_compile.h"

namespace kgw::ingress {

bool hs_engine::build(const route_set& rs, const route_table& table, std::vector<manifest_error>& errors) {
  table_ = &table;
  fallback_ = rs.default_backend >= 0 ? route_default : route_none;
  parts_.clear();
  struct pending {
    std::vector<std::string> pats;
    std::vector<unsigned> flags;
    std::vector<pattern_info> info;
  };
  std::vector<pending> todo(layout_ == layout::single ? 1 : 0);
  for (size_t i = 0; i < rs.rules.size(); i++) {
    const auto& r = rs.rules[i];
    if (r.shadowed) continue;
    uint32_t g = table.group_of_rule_host(r.host);
    if (g == no_group) continue;
    if (layout_ == layout::per_host && g >= todo.size()) todo.resize(g + 1);
    pending& p = todo[layout_ == layout::single ? 0 : g];
    switch (r.kind) {
      case match_kind::exact: p.pats.push_back("^" + hs_escape_literal(r.path) + "\\z"); break;
      case match_kind::prefix: p.pats.push_back("^" + hs_escape_literal(r.path) + "(?:/|\\z)"); break;
      case match_kind::regex: p.pats.push_back(anchored_path_regex(r.path)); break;
    }
    p.flags.push_back(HS_FLAG_ALLOWEMPTY);
    p.info.push_back({g, uint32_t(i), uint32_t(r.path.size()), uint8_t(r.kind)});
  }
  parts_.resize(todo.size());
  for (size_t k = 0; k < todo.size(); k++) {
    std::vector<std::byte> bytes;
    hs_compile_failure fail;
    if (!hs_compile_serialized(todo[k].pats, todo[k].flags, bytes, fail)) {
      errors.push_back(
          {"", 0, "", "", fmt::format("Hyperscan (pattern {}): {}", fail.expression, fail.message), false});
      return false;
    }
    if (!bytes.empty() && !parts_[k].db.load(bytes.data(), bytes.size())) {
      errors.push_back({"", 0, "", "", "Hyperscan database does not deserialize", false});
      return false;
    }
    parts_[k].info = std::move(todo[k].info);
  }
  return true;
}

scratch_ptr hs_engine::alloc_scratch() const {
  hs_scratch_t* s = nullptr;
  for (const auto& p : parts_) {
    if (!p.db.loaded()) continue;
    if (hs_alloc_scratch(p.db.get(), &s) != HS_SUCCESS) {
      if (s) hs_free_scratch(s);
      return nullptr;
    }
  }
  return scratch_ptr(s);
}

size_t hs_engine::database_bytes() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p.db.size();
  return n;
}

namespace {

struct ctx {
  const hs_engine::pattern_info* info;
  uint32_t g[3];
  uint32_t lit[3];    // best Exact/Prefix pattern per class
  uint32_t rx[3];     // best regex pattern per class
};

int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* p) {
  auto* c = static_cast<ctx*>(p);
  const auto& in = c->info[id];
  for (int k = 0; k < 3; k++) {
    if (in.group != c->g[k]) continue;
    if (in.kind == uint8_t(match_kind::regex)) {
      if (id < c->rx[k]) c->rx[k] = id;
      continue;
    }
    uint32_t cur = c->lit[k];
    if (cur == no_group) {
      c->lit[k] = id;
      continue;
    }
    const auto& b = c->info[cur];
    bool exact = in.kind == uint8_t(match_kind::exact), bexact = b.kind == uint8_t(match_kind::exact);
    if (in.len > b.len || (in.len == b.len && exact && !bexact) ||
        (in.len == b.len && exact == bexact && id < cur))
      c->lit[k] = id;
  }
  return 0;
}

// Exact, then regex, then the longest Prefix (as the route table).
inline uint32_t pick(const ctx& c, int k) {
  if (c.lit[k] != no_group && c.info[c.lit[k]].kind == uint8_t(match_kind::exact)) return c.info[c.lit[k]].rule;
  if (c.rx[k] != no_group) return c.info[c.rx[k]].rule;
  if (c.lit[k] != no_group) return c.info[c.lit[k]].rule;
  return no_group;
}

}  // namespace

uint32_t hs_engine::lookup(std::string_view host, std::string_view target, hs_scratch_t* scratch) const noexcept {
  std::string_view path = request_path(target);
  if (path.empty() || path[0] != '/' || !scratch || !table_) return fallback_;
  uint32_t g[3];
  table_->host_groups(host, g);
  if (layout_ == layout::single) {
    if (parts_.empty() || !parts_[0].db.loaded()) return fallback_;
    ctx c{parts_[0].info.data(), {g[0], g[1], g[2]}, {no_group, no_group, no_group}, {no_group, no_group, no_group}};
    if (g[0] == no_group && g[1] == no_group && g[2] == no_group) return fallback_;
    hs_scan(parts_[0].db.get(), path.data(), unsigned(path.size()), 0, scratch, on_match, &c);
    for (int k = 0; k < 3; k++) {
      if (c.g[k] == no_group) continue;
      uint32_t r = pick(c, k);
      if (r != no_group) return r;
    }
    return fallback_;
  }
  for (int k = 0; k < 3; k++) {
    if (g[k] == no_group || g[k] >= parts_.size() || !parts_[g[k]].db.loaded()) continue;
    const part& p = parts_[g[k]];
    ctx c{p.info.data(), {g[k], no_group, no_group}, {no_group, no_group, no_group}, {no_group, no_group, no_group}};
    hs_scan(p.db.get(), path.data(), unsigned(path.size()), 0, scratch, on_match, &c);
    uint32_t r = pick(c, 0);
    if (r != no_group) return r;
  }
  return fallback_;
}

}  // namespace kgw::ingress
