// Route table lookup: what a worker runs per request (no allocation, no exceptions).
#include "pipelines/l7/ingress/route_table.h"

#include <cstdlib>
#include <cstring>

#include "pipelines/l7/ingress/route_key_hash.h"

namespace kgw::ingress {

namespace {

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

}  // namespace kgw::ingress
