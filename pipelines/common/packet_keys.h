// The flow keys a parsed packet carries: its own 5-tuple and, for an ICMP
// error, the 5-tuple of the packet it quotes. Connection tracking looks both
// up; NAT rewrites them.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/protocols.h"

namespace kgw {

inline bool is_icmp_echo(const pkt_meta& m) {
  if (m.l3 == l3_kind::ipv4) return m.icmp_type == icmp_echo_request || m.icmp_type == icmp_echo_reply;
  return m.icmp_type == icmp6_echo_request || m.icmp_type == icmp6_echo_reply;
}

inline bool is_icmp(uint8_t proto) { return proto == ipproto_icmp || proto == ipproto_icmpv6; }

// Protocols whose first four bytes are the source and destination ports.
inline bool has_ports(uint8_t proto) { return proto == ipproto_tcp || proto == ipproto_udp || proto == ipproto_sctp; }

// The flow key of a parsed IPv4/IPv6 packet (ports as on the wire, network
// order). Inline: every tracked packet's key is taken once, in the fast path.
inline flow_key flow_key_of(const uint8_t* frame, const pkt_meta& m) {
  flow_key k{};
  const uint8_t* ip = frame + m.l3_off;
  const bool v4 = m.l3 == l3_kind::ipv4;
  if (v4) {
    std::memcpy(k.src, ip + 12, 4);
    std::memcpy(k.dst, ip + 16, 4);
  } else {
    std::memcpy(k.src, ip + 8, 16);
    std::memcpy(k.dst, ip + 24, 16);
  }
  k.family = v4 ? 4 : 6;
  k.proto = m.l4_proto;
  if (m.l4_off == 0) return k;
  const uint8_t* l4 = frame + m.l4_off;
  if (m.l4_proto == ipproto_tcp || m.l4_proto == ipproto_udp) {
    std::memcpy(&k.sport, l4, 2);
    std::memcpy(&k.dport, l4 + 2, 2);
  } else if (is_icmp(m.l4_proto) && is_icmp_echo(m)) {
    // The identifier on both sides, so that the reply's key is the reverse.
    std::memcpy(&k.sport, l4 + 4, 2);
    k.dport = k.sport;
  } else if (m.l4_proto == ipproto_sctp) {
    // SCTP's ports are where TCP's and UDP's are (after the TCP/UDP test:
    // their path pays nothing for it).
    std::memcpy(&k.sport, l4, 2);
    std::memcpy(&k.dport, l4 + 2, 2);
  }
  return k;
}

// The packet an ICMP/ICMPv6 error (destination unreachable, time exceeded,
// packet too big, parameter problem) quotes: where its header starts, its L4
// header, and how much of that is present.
struct icmp_quote {
  uint8_t* ip;
  uint8_t* l4;
  uint32_t l4_avail;  // bytes of the quoted L4 header present
  uint8_t proto;
  bool v4;
};

// False when the packet is no such error or the quote is too short to hold
// the quoted packet's ports.
bool find_icmp_quote(uint8_t* frame, const pkt_meta& m, icmp_quote& q);

// The key of the quoted packet as it was sent; false as find_icmp_quote.
bool icmp_error_inner_key(const uint8_t* frame, const pkt_meta& m, flow_key& inner);

}  // namespace kgw
