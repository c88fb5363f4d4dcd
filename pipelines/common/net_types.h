// Address types shared by the slow path (config, CLI) and the fast path (tables).
// Plain data: safe to place in shared hugepage memory.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace kgw {

struct mac_addr {
  std::array<uint8_t, 6> b{};
  bool operator==(const mac_addr&) const = default;
};

// An IPv4 or IPv6 address. IPv4 is kept in the first 4 bytes, network order.
struct ip_addr {
  uint8_t family = 0;  // 4 or 6; 0 = unset
  std::array<uint8_t, 16> b{};
  bool is_v4() const { return family == 4; }
  bool is_v6() const { return family == 6; }
  bool operator==(const ip_addr&) const = default;
};

// The address in `p` (4 or 16 bytes by family) as an ip_addr.
inline ip_addr ip_from_bytes(uint8_t family, const uint8_t* p) {
  ip_addr a;
  a.family = family;
  std::memcpy(a.b.data(), p, family == 4 ? 4 : 16);
  return a;
}

struct ip_prefix {
  ip_addr addr;
  uint8_t len = 0;
  bool operator==(const ip_prefix&) const = default;
};

// Slow-path text conversions; parse_* return nullopt on anything malformed.
std::optional<mac_addr> parse_mac(std::string_view s);
std::optional<ip_addr> parse_ip(std::string_view s);
// "10.0.0.0/8", "2001:db8::/32"; host bits set beyond len are rejected.
std::optional<ip_prefix> parse_prefix(std::string_view s);
std::string to_string(const mac_addr& m);
std::string to_string(const ip_addr& a);
// The text to_string gives (inet_ntop's: dotted IPv4, RFC 5952 IPv6 with
// glibc's dotted tail for ::a.b.c.d and ::ffff:a.b.c.d), written into `out`
// (ip_text_max bytes, no NUL); its length. No allocation and no sprintf
// (inet_ntop's way): the proxy writes the client's address into every
// request it forwards (X-Forwarded-For, X-Real-IP).
inline constexpr uint32_t ip_text_max = 46;
uint32_t format_ip(const ip_addr& a, char* out);
std::string to_string(const ip_prefix& p);
// `a` is of the prefix's family and inside it.
bool in_prefix(const ip_prefix& p, const ip_addr& a);

}  // namespace kgw
