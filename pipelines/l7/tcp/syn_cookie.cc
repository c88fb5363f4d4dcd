#include "pipelines/l7/tcp/syn_cookie.h"

#include <cstring>

namespace kgw::tcp {

namespace {

// The MSS values a cookie can say (3 bits); a SYN's MSS is rounded down to one.
constexpr uint16_t cookie_mss[] = {536, 1220, 1300, 1400, 1440, 1460, 4312, 8960};
constexpr unsigned n_cookie_mss = sizeof cookie_mss / sizeof cookie_mss[0];

uint32_t counter(uint64_t now_ns) { return static_cast<uint32_t>(now_ns >> 36); }  // 68.7 s steps

uint32_t hash(const sip_key& key, const tcp_tuple& t, uint32_t extra, uint32_t peer_isn = 0) {
  // Packed by hand: a struct would have padding bytes of no defined value.
  uint8_t in[sizeof(tcp_tuple) + 8];
  std::memcpy(in, &t, sizeof t);
  std::memcpy(in + sizeof t, &extra, 4);
  std::memcpy(in + sizeof t + 4, &peer_isn, 4);
  return static_cast<uint32_t>(siphash24(key, in, sizeof in));
}

}  // namespace

uint32_t cookie_make(const sip_key& key, const tcp_tuple& t, uint32_t peer_isn, uint64_t now_ns, uint16_t& mss) {
  unsigned idx = 0;
  for (unsigned i = 0; i < n_cookie_mss; ++i)
    if (cookie_mss[i] <= mss) idx = i;
  mss = cookie_mss[idx];
  uint32_t c = counter(now_ns) & 0xff;
  return hash(key, t, 0xffffffffu) + peer_isn + (c << 24) + ((hash(key, t, c, peer_isn) + idx) & 0x00ffffffu);
}

bool cookie_check(const sip_key& key, const tcp_tuple& t, uint32_t peer_isn, uint32_t cookie, uint64_t now_ns,
                  uint16_t& mss) {
  uint32_t diff = cookie - hash(key, t, 0xffffffffu) - peer_isn;
  uint32_t c = diff >> 24;
  uint32_t age = (counter(now_ns) - c) & 0xff;
  if (age > cookie_max_age) return false;
  uint32_t idx = (diff - hash(key, t, c, peer_isn)) & 0x00ffffffu;
  if (idx >= n_cookie_mss) return false;
  mss = cookie_mss[idx];
  return true;
}

}  // namespace kgw::tcp
