#include "control/policy/prefix_set.h"

#include <algorithm>

namespace kgw::policy {

namespace {

uint8_t max_len(uint8_t family) { return family == 4 ? 32 : 128; }

bool bit_of(const ip_addr& a, unsigned bit) { return a.b[bit / 8] & (0x80 >> (bit % 8)); }

// The two halves of `p` (p.len below the family's width).
std::pair<ip_prefix, ip_prefix> halves(const ip_prefix& p) {
  ip_prefix lo = p, hi = p;
  lo.len = hi.len = uint8_t(p.len + 1);
  hi.addr.b[p.len / 8] = uint8_t(hi.addr.b[p.len / 8] | (0x80 >> (p.len % 8)));
  return {lo, hi};
}

bool overlaps(const ip_prefix& a, const ip_prefix& b) { return prefix_contains(a, b) || prefix_contains(b, a); }

void subtract_into(const ip_prefix& p, const std::vector<ip_prefix>& except, std::vector<ip_prefix>& out) {
  bool any = false;
  for (const auto& e : except) {
    if (prefix_contains(e, p)) return;  // wholly excepted
    any |= overlaps(p, e);
  }
  if (!any) {
    out.push_back(p);
    return;
  }
  auto [lo, hi] = halves(p);  // an exception lies strictly inside p: p.len < max
  subtract_into(lo, except, out);
  subtract_into(hi, except, out);
}

}  // namespace

bool prefix_contains(const ip_prefix& outer, const ip_prefix& inner) {
  if (outer.addr.family != inner.addr.family || inner.len < outer.len) return false;
  for (unsigned bit = 0; bit < outer.len; ++bit)
    if (bit_of(outer.addr, bit) != bit_of(inner.addr, bit)) return false;
  return true;
}

bool prefix_contains(const ip_prefix& outer, const ip_addr& a) { return prefix_contains(outer, host_prefix(a)); }

ip_prefix host_prefix(const ip_addr& a) { return ip_prefix{a, max_len(a.family)}; }

ip_prefix any_prefix(uint8_t family) {
  ip_prefix p;
  p.addr.family = family;
  return p;
}

std::vector<ip_prefix> subtract_prefixes(const ip_prefix& cidr, const std::vector<ip_prefix>& except) {
  std::vector<ip_prefix> out;
  subtract_into(cidr, except, out);
  return out;
}

}  // namespace kgw::policy
