// format_ip (pipelines/common/net_types.h) writes what glibc's inet_ntop
// writes, for every shape of IPv6 zero runs (none, one, several, ties, at
// either end, all zero), the dotted tails, and IPv4.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "pipelines/common/net_types.h"

namespace kgw {
namespace {

std::string ntop(const ip_addr& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(a.is_v4() ? AF_INET : AF_INET6, a.b.data(), buf, sizeof buf);
  return buf;
}

std::string formatted(const ip_addr& a) {
  char out[ip_text_max];
  uint32_t n = format_ip(a, out);
  EXPECT_LE(n, ip_text_max);
  return std::string(out, n);
}

TEST(IpText, Ipv6AsInetNtopWritesIt) {
  std::mt19937 rng(7);
  ip_addr a;
  a.family = 6;
  // Every pattern of zero and non-zero groups, the non-zero ones random
  // (small and large values: leading zeros dropped), and every one of the
  // 256 patterns with the dotted tails' prefixes.
  for (uint32_t pattern = 0; pattern < 256; ++pattern)
    for (int round = 0; round < 20; ++round) {
      for (int g = 0; g < 8; ++g) {
        uint32_t v = 0;
        if (pattern >> g & 1) v = round % 2 ? rng() % 0x10 + 1 : rng() % 0xffff + 1;
        a.b[2 * g] = static_cast<uint8_t>(v >> 8);
        a.b[2 * g + 1] = static_cast<uint8_t>(v);
      }
      ASSERT_EQ(formatted(a), ntop(a)) << ntop(a);
      a.b[10] = a.b[11] = 0xff;  // ::ffff:a.b.c.d when the rest before it is zero
      ASSERT_EQ(formatted(a), ntop(a)) << ntop(a);
    }
  for (const char* s : {"::", "::1", "1::", "::ffff:198.18.0.1", "::198.18.0.1", "2001:db8::1:0:0:1",
                        "2001:db8:0:0:1::1", "fe80::", "0:1:0:1:0:1:0:1"}) {
    ip_addr p = *parse_ip(s);
    EXPECT_EQ(formatted(p), ntop(p)) << s;
    EXPECT_EQ(to_string(p), ntop(p)) << s;
  }
}

TEST(IpText, Ipv4AsInetNtopWritesIt) {
  ip_addr a;
  a.family = 4;
  for (uint32_t v : {0u, 1u, 9u, 10u, 99u, 100u, 199u, 255u})
    for (int at = 0; at < 4; ++at) {
      a.b = {};
      a.b[at] = static_cast<uint8_t>(v);
      a.b[3 - at] = static_cast<uint8_t>(255 - v);
      ASSERT_EQ(formatted(a), ntop(a));
    }
  EXPECT_EQ(to_string(*parse_ip("198.18.0.53")), "198.18.0.53");
  EXPECT_EQ(to_string(ip_addr{}), "?");
}

}  // namespace
}  // namespace kgw
