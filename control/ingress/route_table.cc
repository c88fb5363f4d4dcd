// Route table: builder (control process) and lookup (workers; no allocation).
#include "control/ingress/route_table.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <fmt/format.h>

#include "control/ingress/hs_compile.h"

namespace kgw::ingress {

namespace {
constexpr uint32_t table_magic = 0x4b475752;  // "KGWR"
constexpr uint32_t table_version = 1;
constexpr uint32_t empty_slot = 0xFFFFFFFFu;
constexpr uint64_t hash_seed = 0x243F6A8885A308D3ull;
}  // namespace

struct route_table_header {
  uint32_t magic;
  uint32_t version;
  uint64_t total_size;
  uint32_t host_mask, host_off;      // host_slot[host_mask + 1]
  uint32_t path_mask, path_off;      // path_slot[path_mask + 1]
  uint32_t n_groups, group_off;      // group_info[n_groups]
  uint32_t n_rules, backend_off;     // uint32 backend per rule (route_set::rules)
  uint32_t n_regex, regex_group_off; // uint32 group per regex id
  uint32_t regex_rule_off;           // uint32 rule per regex id
  uint32_t strings_off, strings_len;
  uint32_t regex_db_off, regex_db_len;
  uint32_t any_group;                // group of rules without host, no_group if none
  uint32_t default_backend;          // backend index, no_group if none
  uint32_t max_pieces;               // most pieces in any Exact/Prefix key
  uint32_t pad;
};

namespace {

struct host_slot {
  uint64_t hash;
  uint32_t str_off;
  uint32_t len;  // empty_slot = free
  uint32_t exact_group;
  uint32_t wildcard_group;
};

struct path_slot {
  uint64_t hash;
  uint32_t str_off;
  uint32_t len;  // empty_slot = free
  uint32_t group;
  uint32_t exact_rule;
  uint32_t prefix_rule;
  uint32_t pad;
};

struct group_info {
  uint32_t n_regex;
};

inline uint64_t mix(uint64_t h, uint64_t v) noexcept {
  h ^= v;
  h *= 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return h;
}

inline uint64_t fmix(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Hash of one piece of bytes, chained onto h; 8 bytes at a time.
inline uint64_t piece_hash(uint64_t h, const char* p, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    h = mix(h, v);
  }
  if (i < n) {
    uint64_t v = 0;
    std::memcpy(&v, p + i, n - i);
    h = mix(h, v);
  }
  return mix(h, uint64_t(n) | 0x2F00000000000000ull);
}

inline uint64_t slot_hash(uint64_t path_hash, uint32_t group) noexcept {
  return fmix(path_hash ^ (uint64_t(group) + 1) * 0xD6E8FEB86659FD93ull);
}

inline uint64_t host_hash(const char* p, size_t n) noexcept { return fmix(piece_hash(hash_seed, p, n)); }

// Chained hash of a whole key, as the lookup computes it piece by piece.
uint64_t path_key_hash(std::string_view s, uint32_t& pieces) {
  uint64_t h = hash_seed;
  pieces = 0;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    size_t end = slash == std::string_view::npos ? s.size() : slash;
    h = piece_hash(h, s.data() + start, end - start);
    pieces++;
    if (slash == std::string_view::npos) break;
    start = end + 1;
  }
  return h;
}

template <class T>
inline const T* at(const std::byte* base, uint32_t off) noexcept {
  return reinterpret_cast<const T*>(base + off);
}

struct lookup_ctx {
  const uint32_t* regex_group;
  uint32_t g[3];
  uint32_t best[3];
};

int on_regex_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  auto* c = static_cast<lookup_ctx*>(ctx);
  uint32_t grp = c->regex_group[id];
  for (int k = 0; k < 3; k++)
    if (grp == c->g[k] && id < c->best[k]) c->best[k] = id;
  return 0;
}

}  // namespace

int normalize_request_host(std::string_view host, char (&buf)[max_host_len + 1]) noexcept {
  size_t n = host.size();
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    n = close == std::string_view::npos ? host.size() : close + 1;
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) n = colon;
  }
  if (n > 0 && host[n - 1] == '.') n--;
  if (n > max_host_len) return -1;
  for (size_t i = 0; i < n; i++) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  buf[n] = 0;
  return int(n);
}

std::string_view request_path(std::string_view target) noexcept {
  for (size_t i = 0; i < target.size(); i++)
    if (target[i] == '?' || target[i] == '#') return target.substr(0, i);
  return target;
}

void route_table::free_deleter::operator()(std::byte* p) const noexcept { std::free(p); }

route_table::route_table() = default;
route_table::~route_table() = default;
route_table::route_table(route_table&&) noexcept = default;
route_table& route_table::operator=(route_table&&) noexcept = default;

bool route_table::attach(const std::byte* blob, size_t n) {
  hdr_ = nullptr;
  blob_.reset();
  blob_size_ = 0;
  if (n < sizeof(route_table_header)) return false;
  route_table_header h;
  std::memcpy(&h, blob, sizeof h);
  if (h.magic != table_magic || h.version != table_version || h.total_size != n) return false;
  size_t alloc = (n + 63) / 64 * 64;
  auto* mem = static_cast<std::byte*>(std::aligned_alloc(64, alloc));
  if (!mem) return false;
  std::memcpy(mem, blob, n);
  blob_.reset(mem);
  blob_size_ = n;
  if (h.regex_db_len) {
    if (!regex_.load(mem + h.regex_db_off, h.regex_db_len)) {
      blob_.reset();
      blob_size_ = 0;
      return false;
    }
  } else {
    regex_ = hs_db();
  }
  hdr_ = reinterpret_cast<const route_table_header*>(mem);
  return true;
}

bool route_table::has_regex() const noexcept { return hdr_ && hdr_->n_regex > 0; }

uint32_t route_table::backend_of(uint32_t result) const noexcept {
  if (!hdr_) return no_group;
  if (result == route_default) return hdr_->default_backend;
  if (result >= hdr_->n_rules) return no_group;
  return at<uint32_t>(blob_.get(), hdr_->backend_off)[result];
}

namespace {

inline const host_slot* find_host(const std::byte* base, const route_table_header* h, const char* s,
                                  size_t n) noexcept {
  const uint64_t hv = host_hash(s, n);
  const host_slot* slots = at<host_slot>(base, h->host_off);
  const char* strings = at<char>(base, h->strings_off);
  for (uint32_t i = uint32_t(hv) & h->host_mask;; i = (i + 1) & h->host_mask) {
    const host_slot& sl = slots[i];
    if (sl.len == empty_slot) return nullptr;
    if (sl.hash == hv && sl.len == n && std::memcmp(strings + sl.str_off, s, n) == 0) return &sl;
  }
}

inline const path_slot* find_path(const std::byte* base, const route_table_header* h, uint32_t group,
                                  uint64_t path_hash, const char* s, size_t n) noexcept {
  const uint64_t hv = slot_hash(path_hash, group);
  const path_slot* slots = at<path_slot>(base, h->path_off);
  const char* strings = at<char>(base, h->strings_off);
  for (uint32_t i = uint32_t(hv) & h->path_mask;; i = (i + 1) & h->path_mask) {
    const path_slot& sl = slots[i];
    if (sl.len == empty_slot) return nullptr;
    if (sl.hash == hv && sl.group == group && sl.len == n && std::memcmp(strings + sl.str_off, s, n) == 0)
      return &sl;
  }
}

// Wildcard group for a normalized host: the host minus its first (non-empty) label.
inline uint32_t wildcard_group(const std::byte* base, const route_table_header* h, const char* buf,
                               int n) noexcept {
  if (n <= 0) return no_group;
  const void* dot = std::memchr(buf, '.', size_t(n));
  if (!dot) return no_group;
  size_t first = size_t(static_cast<const char*>(dot) - buf);
  if (first == 0 || first + 1 >= size_t(n)) return no_group;
  const host_slot* s = find_host(base, h, buf + first + 1, size_t(n) - first - 1);
  return s ? s->wildcard_group : no_group;
}

void host_groups_impl(const std::byte* base, const route_table_header* h, std::string_view host,
                      uint32_t out[3]) noexcept {
  out[0] = out[1] = no_group;
  out[2] = h->any_group;
  char buf[max_host_len + 1];
  int n = normalize_request_host(host, buf);
  if (n <= 0) return;
  if (const host_slot* s = find_host(base, h, buf, size_t(n))) out[0] = s->exact_group;
  out[1] = wildcard_group(base, h, buf, n);
}

}  // namespace

void route_table::host_groups(std::string_view host, uint32_t out[3]) const noexcept {
  if (!hdr_) {
    out[0] = out[1] = out[2] = no_group;
    return;
  }
  host_groups_impl(blob_.get(), hdr_, host, out);
}

uint32_t route_table::group_of_rule_host(std::string_view rule_host) const noexcept {
  if (!hdr_) return no_group;
  if (rule_host.empty()) return hdr_->any_group;
  bool wild = rule_host.starts_with("*.");
  if (wild) rule_host.remove_prefix(2);
  const host_slot* s = find_host(blob_.get(), hdr_, rule_host.data(), rule_host.size());
  if (!s) return no_group;
  return wild ? s->wildcard_group : s->exact_group;
}

uint32_t route_table::lookup(std::string_view host, std::string_view target, hs_scratch_t* scratch) const noexcept {
  const route_table_header* h = hdr_;
  if (!h) return route_none;
  const std::byte* base = blob_.get();
  const uint32_t fallback = h->default_backend != no_group ? route_default : route_none;
  std::string_view path = request_path(target);
  if (path.empty() || path[0] != '/') return fallback;

  // Host classes: the exact host now; the wildcard group only if the exact host's rules
  // don't answer (computed lazily below).
  char hbuf[max_host_len + 1];
  const int hn = normalize_request_host(host, hbuf);
  uint32_t g[3] = {no_group, no_group, h->any_group};
  bool wild_pending = hn > 0;
  if (hn > 0) {
    if (const host_slot* s = find_host(base, h, hbuf, size_t(hn))) g[0] = s->exact_group;
  }
  if (g[0] == no_group && g[2] == no_group) {
    g[1] = wildcard_group(base, h, hbuf, hn);
    wild_pending = false;
    if (g[1] == no_group) return fallback;
  }

  // One forward pass: the chained hash at every '/' boundary (prefix path[0, pos)),
  // up to the most pieces any key has; the whole path's hash when it isn't longer.
  uint64_t bh[max_path_pieces];
  uint32_t bpos[max_path_pieces];
  uint32_t nb = 0;
  bool full_ok = true;
  uint64_t full_hash = 0;
  {
    const char* p = path.data();
    const size_t len = path.size();
    const uint32_t limit = h->max_pieces;
    uint64_t hv = hash_seed;
    size_t start = 0;
    uint32_t pieces = 0;
    for (;;) {
      size_t end = start;
      while (end < len && p[end] != '/') end++;
      hv = piece_hash(hv, p + start, end - start);
      pieces++;
      if (end == len) break;
      bh[nb] = hv;
      bpos[nb] = uint32_t(end);
      nb++;
      if (pieces >= limit) {  // longer prefixes than any key: no need to hash them
        full_ok = false;
        break;
      }
      start = end + 1;
    }
    if (full_ok) full_hash = hv;
  }

  const group_info* groups = at<group_info>(base, h->group_off);
  lookup_ctx rx{nullptr, {g[0], g[1], g[2]}, {no_group, no_group, no_group}};
  bool scanned = false;
  for (int c = 0; c < 3; c++) {
    if (c == 1 && wild_pending) {
      g[1] = wildcard_group(base, h, hbuf, hn);
      rx.g[1] = g[1];
      wild_pending = false;
    }
    const uint32_t grp = g[c];
    if (grp == no_group) continue;
    // Exact, then regex (a regex matches the whole path), then the longest Prefix.
    const path_slot* full = full_ok ? find_path(base, h, grp, full_hash, path.data(), path.size()) : nullptr;
    if (full && full->exact_rule != empty_slot) return full->exact_rule;
    if (groups[grp].n_regex && scratch && regex_.loaded()) {
      if (!scanned) {
        scanned = true;
        if (wild_pending) {  // the one scan must collect the wildcard class's best too
          g[1] = wildcard_group(base, h, hbuf, hn);
          rx.g[1] = g[1];
          wild_pending = false;
        }
        rx.regex_group = at<uint32_t>(base, h->regex_group_off);
        hs_scan(regex_.get(), path.data(), unsigned(path.size()), 0, scratch, on_regex_match, &rx);
      }
      if (rx.best[c] != no_group) return at<uint32_t>(base, h->regex_rule_off)[rx.best[c]];
    }
    if (full && full->prefix_rule != empty_slot) return full->prefix_rule;
    for (uint32_t b = nb; b-- > 0;) {
      if (const path_slot* s = find_path(base, h, grp, bh[b], path.data(), bpos[b])) {
        if (s->prefix_rule != empty_slot) return s->prefix_rule;
      }
    }
  }
  return fallback;
}

// ---------------------------------------------------------------------------------

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
