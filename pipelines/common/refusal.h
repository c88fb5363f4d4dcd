// Refusals built in place from the packet that caused them and sent back
// where it came from: ICMP/ICMPv6 port unreachable (what a client of
// kube-proxy gets from a Service with no ready endpoint, or from a Service
// address on a port it does not serve) and a TCP RST (a closed port on a
// node address). Each worker sends at most so many per second.
#pragma once

#include <cstdint>

#include "pipelines/common/pkt_meta.h"

namespace kgw {

// A token bucket per worker over the worker's clock: a scan or a flood
// towards closed ports must not turn the gateway into a packet source.
struct refusal_limiter {
  uint32_t per_second = 1000;  // also the burst
  uint32_t tokens = per_second;  // starts full
  uint64_t last_ns = 0;

  bool take(uint64_t now_ns) {
    if (now_ns > last_ns) {
      // At most a second's worth: the bucket holds `per_second`.
      uint64_t elapsed = now_ns - last_ns < 1000000000ull ? now_ns - last_ns : 1000000000ull;
      uint64_t add = elapsed * per_second / 1000000000ull;
      if (add) {
        tokens = static_cast<uint32_t>(tokens + add < per_second ? tokens + add : per_second);
        last_ns = elapsed == 1000000000ull ? now_ns : last_ns + add * 1000000000ull / per_second;
      }
    }
    if (!tokens) return false;
    --tokens;
    return true;
  }
};

// Rewrites the frame into the error (IPv4: type 3 code 3 quoting the IP header
// and 8 bytes; IPv6: type 1 code 4 quoting as much as fits in 1280 bytes),
// from the address the packet was sent to. False when it does not fit in `cap`.
bool icmp_port_unreachable(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const uint8_t* port_mac);

// Any ICMP/ICMPv6 error built the same way: type, code, the header's second
// word (a next-hop MTU for "fragmentation needed" and "packet too big"), and
// the source address (nullptr: the address the packet was sent to).
struct icmp_error_kind {
  uint8_t type;
  uint8_t code;
  uint32_t rest;
  const uint8_t* from;
};
bool icmp_error(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const uint8_t* port_mac, const icmp_error_kind& k);

// Rewrites a TCP segment into the RST a closed port answers with (RFC 9293
// 3.10.7.1): SEQ = the segment's ACK when it has one, else SEQ 0 with ACK =
// its SEQ + its length (SYN and FIN count one). Options and payload are
// dropped. False for a RST (never answered) or a segment without its header.
bool tcp_reset(uint8_t* frame, uint32_t& len, pkt_meta& m, const uint8_t* port_mac);

}  // namespace kgw
