// An upstream's answer to a query, for the forwarder's tests (unit_tcp's DNS
// over TCP forwarding, unit_dns_upstream's TCP retry).
#pragma once

#include <cstdint>
#include <vector>

namespace kgw::test {

// The answer to `q` (its ID and question, QR RD RA) with `n` A records
// (198.18.x.y, TTL 60), each 16 bytes, the name a pointer to the question's.
inline std::vector<uint8_t> upstream_answer(const std::vector<uint8_t>& q, unsigned n) {
  std::vector<uint8_t> a = q;
  a[2] = 0x81;
  a[3] = 0x80;
  a[6] = static_cast<uint8_t>(n >> 8);
  a[7] = static_cast<uint8_t>(n);
  for (unsigned i = 0; i < n; ++i)
    a.insert(a.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, static_cast<uint8_t>(i >> 8),
                       static_cast<uint8_t>(i)});
  return a;
}

}  // namespace kgw::test
