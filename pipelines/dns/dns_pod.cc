#include "pipelines/dns/dns_pod.h"

#include <cstring>

namespace kgw::dns {

namespace {

bool parse_v4(const uint8_t* s, uint32_t len, uint8_t out[4]) {
  uint32_t field = 0;
  uint32_t i = 0;
  while (field < 4) {
    uint32_t start = i, v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (i - start >= 3 || v > 255) return false;
      ++i;
    }
    uint32_t digits = i - start;
    if (digits == 0 || (digits > 1 && s[start] == '0')) return false;  // Go rejects leading zeros
    out[field++] = static_cast<uint8_t>(v);
    if (field == 4) return i == len;
    if (i >= len || s[i] != '-') return false;
    ++i;
  }
  return false;
}

int hex(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// netip.ParseAddr's IPv6 parse, with '-' for ':' (no embedded IPv4: a pod
// label has no dots).
bool parse_v6(const uint8_t* s, uint32_t len, uint8_t out[16]) {
  std::memset(out, 0, 16);
  int ellipsis = -1;
  uint32_t i = 0, p = 0;
  if (len >= 2 && s[0] == '-' && s[1] == '-') {
    ellipsis = 0;
    p = 2;
    if (p == len) return true;  // "::"
  }
  while (i < 16) {
    uint32_t v = 0, off = 0;
    for (; p + off < len; ++off) {
      int h = hex(s[p + off]);
      if (h < 0) break;
      if (off > 3) return false;  // at most 4 hex digits
      v = v << 4 | static_cast<uint32_t>(h);
    }
    if (off == 0) return false;
    out[i] = static_cast<uint8_t>(v >> 8);
    out[i + 1] = static_cast<uint8_t>(v);
    i += 2;
    p += off;
    if (p == len) break;
    if (s[p] != '-' || p + 1 == len) return false;  // garbage, or a trailing colon
    ++p;
    if (s[p] == '-') {
      if (ellipsis >= 0) return false;  // a second "::"
      ellipsis = static_cast<int>(i);
      ++p;
      if (p == len) break;
    }
  }
  if (p != len) return false;
  if (i < 16) {
    if (ellipsis < 0) return false;
    uint32_t n = i - static_cast<uint32_t>(ellipsis);
    std::memmove(out + 16 - n, out + ellipsis, n);
    std::memset(out + ellipsis, 0, 16 - n - static_cast<uint32_t>(ellipsis));
  } else if (ellipsis >= 0) {
    return false;  // "::" must stand for one group at least
  }
  return true;
}

}  // namespace

pod_name pod_address_of(const uint8_t* label, uint32_t len, uint8_t addr[16]) {
  uint32_t dashes = 0;
  bool double_dash = false;
  for (uint32_t i = 0; i < len; ++i) {
    if (label[i] != '-') continue;
    ++dashes;
    double_dash |= i + 1 < len && label[i + 1] == '-';
  }
  if (dashes == 3 && !double_dash) return parse_v4(label, len, addr) ? pod_name::address4 : pod_name::nxdomain;
  if (!parse_v6(label, len, addr)) return pod_name::nxdomain;
  static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(addr, mapped, 12) == 0) {  // Go's To4: an IPv4-mapped address is IPv4
    std::memmove(addr, addr + 12, 4);
    return pod_name::address4;
  }
  return pod_name::address6;
}

pod_name pod_name_of(const table& t, const query& q, uint8_t addr[16]) {
  if (t.pods != pods_insecure || t.n_zones == 0) return pod_name::none;
  const zone_entry& z = t.zones[0];
  if (!z.authoritative || !ends_with(q, t.data() + z.name_off, z.name_len)) return pod_name::none;
  uint32_t zone_at = q.name_len - z.name_len;
  uint32_t k = 0;  // the zone's first label
  while (k < q.n_labels && q.label_at[k] != zone_at) ++k;
  // Labels above the zone: [0, k). The last of them must be "pod", with
  // one (the namespace) below it at least.
  if (k < 2) return pod_name::none;
  const uint8_t* pod = q.lower + q.label_at[k - 1];
  if (pod[0] != 3 || std::memcmp(pod + 1, "pod", 3) != 0) return pod_name::none;
  uint32_t below = k - 1;  // labels below pod: namespace, then the address, then 1 or 2 more
  if (below == 1) return pod_name::nodata;
  // CoreDNS reads `[endpoint.]addr.ns.pod` and `_port._proto.addr.ns.pod`
  // the same (it ignores the endpoint, port and protocol for pods); more
  // labels are "too long": NXDOMAIN.
  if (below > 4) return pod_name::nxdomain;
  const uint8_t* label = q.lower + q.label_at[k - 3];
  return pod_address_of(label + 1, label[0], addr);
}

}  // namespace kgw::dns
