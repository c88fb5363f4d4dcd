// Builds test frames byte by byte, with checksums from a deliberately naive
// reference (a loop over 16-bit words) so that the code under test is checked
// against something independent of pipelines/common/checksum.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace kgw::test {

using bytes = std::vector<uint8_t>;

inline uint16_t ref_checksum(const bytes& b, uint32_t initial = 0) {
  uint32_t s = initial;
  for (size_t i = 0; i < b.size(); i += 2) {
    uint32_t hi = b[i];
    uint32_t lo = i + 1 < b.size() ? b[i + 1] : 0;
    s += hi << 8 | lo;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline void put16(bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline uint16_t get16(const bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

inline void append(bytes& b, const bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

inline const bytes mac_a = {0x02, 0, 0, 0, 0, 0x0a};
inline const bytes mac_gw = {0x02, 0, 0, 0, 0, 0x01};
inline const bytes ip4_client = {198, 18, 0, 2};
inline const bytes ip4_gw = {198, 18, 0, 1};
inline const bytes ip6_client = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
inline const bytes ip6_gw = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

inline bytes eth(uint16_t type, const bytes& dst = mac_gw, const bytes& src = mac_a,
                 std::initializer_list<uint16_t> vlans = {}) {
  bytes b = dst;
  append(b, src);
  for (uint16_t tci : vlans) {
    b.push_back(0x81);
    b.push_back(0x00);
    b.push_back(static_cast<uint8_t>(tci >> 8));
    b.push_back(static_cast<uint8_t>(tci));
  }
  b.push_back(static_cast<uint8_t>(type >> 8));
  b.push_back(static_cast<uint8_t>(type));
  return b;
}

inline bytes arp(uint16_t op, const bytes& sha, const bytes& spa, const bytes& tha, const bytes& tpa) {
  bytes b = {0, 1, 0x08, 0x00, 6, 4, 0, static_cast<uint8_t>(op)};
  append(b, sha);
  append(b, spa);
  append(b, tha);
  append(b, tpa);
  return b;
}

struct ipv4_opts {
  uint8_t proto = 6;
  bytes src = ip4_client;
  bytes dst = ip4_gw;
  bytes options = {};
  uint16_t frag = 0;  // flags + offset field as on the wire
  uint8_t ttl = 64;
  uint16_t id = 0;
};

inline bytes ipv4(const ipv4_opts& o, const bytes& payload) {
  size_t ihl = 20 + o.options.size();
  bytes b(20, 0);
  b[0] = static_cast<uint8_t>(0x40 | (ihl / 4));
  put16(b, 2, static_cast<uint16_t>(ihl + payload.size()));
  put16(b, 4, o.id);
  put16(b, 6, o.frag);
  b[8] = o.ttl;
  b[9] = o.proto;
  for (int i = 0; i < 4; ++i) {
    b[12 + i] = o.src[i];
    b[16 + i] = o.dst[i];
  }
  append(b, o.options);
  put16(b, 10, ref_checksum(b));
  append(b, payload);
  return b;
}

// `ext` is a list of already-encoded extension headers; each one's first byte
// (next header) is filled in here so the chain is consistent.
struct ipv6_opts {
  uint8_t proto = 6;
  bytes src = ip6_client;
  bytes dst = ip6_gw;
  std::vector<std::pair<uint8_t, bytes>> ext = {};  // (header type, header bytes)
  uint8_t hop_limit = 64;
};

inline bytes ipv6(const ipv6_opts& o, const bytes& payload) {
  bytes exts;
  for (size_t i = 0; i < o.ext.size(); ++i) {
    bytes h = o.ext[i].second;
    h[0] = i + 1 < o.ext.size() ? o.ext[i + 1].first : o.proto;
    append(exts, h);
  }
  bytes b(8, 0);
  b[0] = 0x60;
  put16(b, 4, static_cast<uint16_t>(exts.size() + payload.size()));
  b[6] = o.ext.empty() ? o.proto : o.ext[0].first;
  b[7] = o.hop_limit;
  append(b, o.src);
  append(b, o.dst);
  append(b, exts);
  append(b, payload);
  return b;
}

inline uint32_t pseudo4(const bytes& src, const bytes& dst, uint8_t proto, size_t len) {
  bytes p = src;
  append(p, dst);
  p.push_back(0);
  p.push_back(proto);
  p.push_back(static_cast<uint8_t>(len >> 8));
  p.push_back(static_cast<uint8_t>(len));
  return static_cast<uint16_t>(~ref_checksum(p));
}

inline uint32_t pseudo6(const bytes& src, const bytes& dst, uint8_t proto, size_t len) {
  bytes p = src;
  append(p, dst);
  bytes l = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
             static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 0, 0, proto};
  append(p, l);
  return static_cast<uint16_t>(~ref_checksum(p));
}

inline bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const bytes& payload = {},
                 const bytes& options = {}) {
  bytes b(20, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  b[12] = static_cast<uint8_t>(((20 + options.size()) / 4) << 4);
  b[13] = flags;
  put16(b, 14, 65535);
  append(b, options);
  append(b, payload);
  return b;
}

inline bytes udp(uint16_t sport, uint16_t dport, const bytes& payload = {}) {
  bytes b(8, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put16(b, 4, static_cast<uint16_t>(8 + payload.size()));
  append(b, payload);
  return b;
}

// ICMP/ICMPv6 message; checksum left zero (fill with icmp4_sum / icmp6_sum).
inline bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const bytes& data = {}) {
  bytes b(8, 0);
  b[0] = type;
  b[1] = code;
  put16(b, 4, id);
  put16(b, 6, seq);
  append(b, data);
  return b;
}

inline bytes with_icmp4_sum(bytes m) {
  put16(m, 2, 0);
  put16(m, 2, ref_checksum(m));
  return m;
}

inline bytes with_l4_sum6(bytes m, size_t csum_at, const bytes& src, const bytes& dst, uint8_t proto) {
  put16(m, csum_at, 0);
  put16(m, csum_at, ref_checksum(m, pseudo6(src, dst, proto, m.size())));
  return m;
}

inline bytes frame(const bytes& l2, const bytes& l3) {
  bytes f = l2;
  append(f, l3);
  return f;
}

}  // namespace kgw::test
