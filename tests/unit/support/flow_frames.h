// Whole frames of Service flows for the stage tests, with checksums from the
// reference in packet_builder.h: the client, a VIP, a pod and the SNAT
// address in both families, flow keys, and frames parsed into pkt_meta.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <utility>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/protocols.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/packet_builder.h"

namespace kgw::test {

inline const bytes vip4 = {198, 18, 10, 1}, pod4 = {198, 19, 1, 11}, snat4 = {198, 18, 0, 250};
inline const bytes vip6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01};
inline const bytes pod6 = {0x20, 0x01, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
inline const bytes snat6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x50};

// The key of a flow (ports in host order here, network order in the key).
inline flow_key key(const bytes& src, const bytes& dst, uint16_t sport, uint16_t dport, uint8_t proto) {
  flow_key k{};
  std::memcpy(k.src, src.data(), src.size());
  std::memcpy(k.dst, dst.data(), dst.size());
  k.sport = htons(sport);
  k.dport = htons(dport);
  k.proto = proto;
  k.family = src.size() == 4 ? 4 : 6;
  return k;
}

inline bytes tcp_sum4(bytes seg, const bytes& s, const bytes& d) {
  put16(seg, 16, ref_checksum(seg, pseudo4(s, d, ipproto_tcp, seg.size())));
  return seg;
}
inline bytes udp_sum4(bytes seg, const bytes& s, const bytes& d) {
  put16(seg, 6, ref_checksum(seg, pseudo4(s, d, ipproto_udp, seg.size())));
  return seg;
}

// The IP packet (no Ethernet header) of a TCP segment from s:sp to d:dp; the
// family follows the address size.
inline bytes tcp_packet(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, uint8_t flags,
                        const bytes& payload = {}, const bytes& options = {}) {
  bytes seg = tcp(sp, dp, flags, payload, options);
  if (s.size() == 16) return ipv6({.proto = ipproto_tcp, .src = s, .dst = d}, with_l4_sum6(seg, 16, s, d, ipproto_tcp));
  return ipv4({.proto = ipproto_tcp, .src = s, .dst = d}, tcp_sum4(seg, s, d));
}

inline bytes udp_packet(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, const bytes& payload = {1, 2}) {
  bytes seg = udp(sp, dp, payload);
  if (s.size() == 16) return ipv6({.proto = ipproto_udp, .src = s, .dst = d}, with_l4_sum6(seg, 6, s, d, ipproto_udp));
  return ipv4({.proto = ipproto_udp, .src = s, .dst = d}, udp_sum4(seg, s, d));
}

inline uint16_t ethertype_of(const bytes& ip) { return (ip[0] >> 4) == 6 ? ethertype_ipv6 : ethertype_ipv4; }

// An IP packet in an Ethernet frame from mac_a to the gateway.
inline bytes framed(const bytes& ip) { return frame(eth(ethertype_of(ip)), ip); }

inline bytes tcp_frame(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, uint8_t flags,
                       const bytes& payload = {}, const bytes& options = {}) {
  return framed(tcp_packet(s, d, sp, dp, flags, payload, options));
}
inline bytes udp_frame(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, const bytes& payload = {1, 2}) {
  return framed(udp_packet(s, d, sp, dp, payload));
}

// A UDP datagram of 24 payload bytes from s to d, checksummed whole, as two
// IPv4 fragments: UDP header and 8 bytes, then the last 16 at offset 16.
inline std::pair<bytes, bytes> udp_fragments4(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, uint16_t id) {
  bytes seg = udp_sum4(udp(sp, dp, bytes(24, 0x5a)), s, d);
  return {framed(ipv4({.proto = ipproto_udp, .src = s, .dst = d, .frag = 0x2000, .id = id},
                      bytes(seg.begin(), seg.begin() + 16))),
          framed(ipv4({.proto = ipproto_udp, .src = s, .dst = d, .frag = 0x0002, .id = id},
                      bytes(seg.begin() + 16, seg.end())))};
}

// ICMP port unreachable (ICMPv6 type 1 code 4) from s to d quoting `quoted`
// (an IP packet, cut to what the error carries).
inline bytes icmp_error_frame(const bytes& s, const bytes& d, bytes quoted) {
  if (s.size() == 16) {
    bytes msg = with_l4_sum6(icmp(1, 4, 0, 0, quoted), 2, s, d, ipproto_icmpv6);
    return framed(ipv6({.proto = ipproto_icmpv6, .src = s, .dst = d}, msg));
  }
  if (quoted.size() > 28) quoted.resize(28);
  return framed(ipv4({.proto = ipproto_icmp, .src = s, .dst = d}, with_icmp4_sum(icmp(3, 3, 0, 0, quoted))));
}

// Path MTU errors: ICMP fragmentation needed (type 3 code 4, the next hop's
// MTU in its last 16 bits) or ICMPv6 packet too big (type 2, a 32-bit MTU).
inline bytes too_big_frame(const bytes& s, const bytes& d, bytes quoted, uint16_t mtu) {
  if (s.size() == 16) {
    bytes msg = with_l4_sum6(icmp(2, 0, 0, mtu, quoted), 2, s, d, ipproto_icmpv6);
    return framed(ipv6({.proto = ipproto_icmpv6, .src = s, .dst = d}, msg));
  }
  if (quoted.size() > 28) quoted.resize(28);
  return framed(ipv4({.proto = ipproto_icmp, .src = s, .dst = d}, with_icmp4_sum(icmp(3, 4, 0, mtu, quoted))));
}

inline pkt_meta parsed(const bytes& f) {
  pkt_meta m;
  EXPECT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), m)) << drop_reason_name(m.why);
  return m;
}

}  // namespace kgw::test
