// SYN cookies (RFC 4987 section 3.6): when a listener's backlog is full, the
// SYN-ACK's sequence number carries what the connection needs (a time
// counter and the MSS, under a keyed hash of the 4-tuple) so that the ACK
// completing the handshake can rebuild the connection with no state kept.
// The layout is Linux's, cookie = H1(tuple) + peer ISN + (t << 24) +
// ((H2(tuple, t, peer ISN) + mss index) mod 2^24) with t a 68.7-second counter (2^36 ns),
// except that H2 also covers the peer's ISN: otherwise an ACK whose sequence
// number is off by a little still passes, with another MSS. When the SYN
// carried timestamps, the low 6 bits of our TSval (echoed back in the ACK)
// carry the window scale and SACK-permitted.
#pragma once

#include <cstdint>

#include "pipelines/l7/tcp/siphash.h"
#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

inline constexpr unsigned cookie_max_age = 2;  // counters (68.7 s each) a cookie stays valid

// The cookie ISN for a SYN; `mss` is rounded down to a value the cookie can
// carry, written back.
uint32_t cookie_make(const sip_key& key, const tcp_tuple& t, uint32_t peer_isn, uint64_t now_ns, uint16_t& mss);
// True when `cookie` (our ISN: the ACK's number - 1) is one we made for this
// tuple and peer ISN (the ACK's sequence number - 1) recently; gives its MSS.
bool cookie_check(const sip_key& key, const tcp_tuple& t, uint32_t peer_isn, uint32_t cookie, uint64_t now_ns,
                  uint16_t& mss);

// Options in the timestamp: wscale 0..14 or none (15), and SACK-permitted.
inline constexpr uint32_t cookie_ts_bits = 0x3f;
inline uint32_t cookie_ts_encode(uint32_t ts_now, bool has_wscale, uint8_t wscale, bool sack) {
  uint32_t opts = (has_wscale ? wscale : 0xfu) | (sack ? 0x10u : 0u);
  uint32_t ts = (ts_now & ~cookie_ts_bits) | opts;
  // Never ahead of our clock: the echo is used as a time by no one, but the
  // next TSval we send must not be smaller than this one.
  if (ts > ts_now) ts -= cookie_ts_bits + 1;
  return ts;
}
inline void cookie_ts_decode(uint32_t tsecr, bool& has_wscale, uint8_t& wscale, bool& sack) {
  uint32_t ws = tsecr & 0xf;
  has_wscale = ws != 0xf;
  wscale = has_wscale ? static_cast<uint8_t>(ws > 14 ? 14 : ws) : 0;
  sack = tsecr & 0x10;
}

}  // namespace kgw::tcp
