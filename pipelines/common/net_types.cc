#include "pipelines/common/net_types.h"

#include <arpa/inet.h>

#include <cstdio>

namespace kgw {

std::optional<mac_addr> parse_mac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  mac_addr m;
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && s[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = s[i * 3 + j];
      unsigned d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return std::nullopt;
      v = v * 16 + d;
    }
    m.b[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::optional<ip_addr> parse_ip(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  std::string str(s);
  ip_addr a;
  if (inet_pton(AF_INET, str.c_str(), a.b.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, str.c_str(), a.b.data()) == 1) {
    a.family = 6;
    return a;
  }
  return std::nullopt;
}

std::optional<ip_prefix> parse_prefix(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = parse_ip(s.substr(0, slash));
  if (!addr) return std::nullopt;
  auto len_s = s.substr(slash + 1);
  if (len_s.empty() || len_s.size() > 3) return std::nullopt;
  unsigned len = 0;
  for (char c : len_s) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  unsigned max = addr->is_v4() ? 32 : 128;
  if (len > max) return std::nullopt;
  for (unsigned bit = len; bit < max; ++bit)
    if (addr->b[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  return ip_prefix{*addr, static_cast<uint8_t>(len)};
}

std::string to_string(const mac_addr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2],
                m.b[3], m.b[4], m.b[5]);
  return buf;
}

namespace {

char* put_decimal(char* o, unsigned v) {  // 0..255
  if (v >= 100) *o++ = static_cast<char>('0' + v / 100);
  if (v >= 10) *o++ = static_cast<char>('0' + v / 10 % 10);
  *o++ = static_cast<char>('0' + v % 10);
  return o;
}

char* put_dotted(char* o, const uint8_t* b) {
  for (int i = 0; i < 4; ++i) {
    if (i) *o++ = '.';
    o = put_decimal(o, b[i]);
  }
  return o;
}

char* put_hex16(char* o, unsigned v) {  // no leading zeros
  static constexpr char digits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    unsigned d = v >> shift & 0xf;
    if (d || started || shift == 0) {
      *o++ = digits[d];
      started = true;
    }
  }
  return o;
}

}  // namespace

uint32_t format_ip(const ip_addr& a, char* out) {
  char* o = out;
  if (a.is_v4()) return static_cast<uint32_t>(put_dotted(o, a.b.data()) - out);
  if (!a.is_v6()) {
    *o = '?';
    return 1;
  }
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = unsigned{a.b[2 * i]} << 8 | a.b[2 * i + 1];
  // The longest run of zero groups, the first of equal ones, two groups at
  // least (RFC 5952 4.2.2, 4.2.3).
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *o++ = ':';
      continue;
    }
    if (i) *o++ = ':';
    // An IPv4-compatible or IPv4-mapped address ends dotted, as glibc's inet_ntop writes it.
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
      return static_cast<uint32_t>(put_dotted(o, a.b.data() + 12) - out);
    o = put_hex16(o, words[i]);
  }
  if (best >= 0 && best + best_len == 8) *o++ = ':';
  return static_cast<uint32_t>(o - out);
}

std::string to_string(const ip_addr& a) {
  char buf[ip_text_max];
  return std::string(buf, format_ip(a, buf));
}

std::string to_string(const ip_prefix& p) { return to_string(p.addr) + "/" + std::to_string(p.len); }

bool in_prefix(const ip_prefix& p, const ip_addr& a) {
  if (p.addr.family != a.family) return false;
  unsigned whole = p.len / 8, rest = p.len % 8;
  for (unsigned i = 0; i < whole; ++i)
    if (p.addr.b[i] != a.b[i]) return false;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return rest == 0 || ((p.addr.b[whole] ^ a.b[whole]) & mask) == 0;
}

}  // namespace kgw
