// Wire constants of the protocols kgw parses (host order).
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr uint16_t ethertype_ipv4 = 0x0800;
inline constexpr uint16_t ethertype_arp = 0x0806;
inline constexpr uint16_t ethertype_vlan = 0x8100;
inline constexpr uint16_t ethertype_qinq = 0x88a8;
inline constexpr uint16_t ethertype_ipv6 = 0x86dd;

inline constexpr uint8_t ipproto_hopopts = 0;
inline constexpr uint8_t ipproto_icmp = 1;
inline constexpr uint8_t ipproto_tcp = 6;
// TCP flags, as pkt_meta::tcp_flags holds them.
inline constexpr uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_ack = 0x10;
inline constexpr uint8_t ipproto_udp = 17;
inline constexpr uint8_t ipproto_routing = 43;
inline constexpr uint8_t ipproto_fragment = 44;
inline constexpr uint8_t ipproto_esp = 50;
inline constexpr uint8_t ipproto_ah = 51;
inline constexpr uint8_t ipproto_icmpv6 = 58;
inline constexpr uint8_t ipproto_none = 59;
inline constexpr uint8_t ipproto_dstopts = 60;
inline constexpr uint8_t ipproto_sctp = 132;  // pipelines/common/sctp.h
inline constexpr uint8_t ipproto_mobility = 135;
inline constexpr uint8_t ipproto_hip = 139;
inline constexpr uint8_t ipproto_shim6 = 140;

inline constexpr uint8_t icmp_echo_reply = 0;
inline constexpr uint8_t icmp_dest_unreach = 3;
inline constexpr uint8_t icmp_echo_request = 8;
inline constexpr uint8_t icmp_time_exceeded = 11;

inline constexpr uint8_t icmp6_dest_unreach = 1;
inline constexpr uint8_t icmp6_packet_too_big = 2;
inline constexpr uint8_t icmp6_time_exceeded = 3;
inline constexpr uint8_t icmp6_echo_request = 128;
inline constexpr uint8_t icmp6_echo_reply = 129;
inline constexpr uint8_t icmp6_neighbor_solicit = 135;
inline constexpr uint8_t icmp6_neighbor_advert = 136;

// A Service port's protocol as Kubernetes spells it.
constexpr const char* l4_proto_name(uint8_t p) {
  return p == ipproto_tcp ? "TCP" : p == ipproto_udp ? "UDP" : p == ipproto_sctp ? "SCTP" : "other";
}

inline constexpr uint16_t arp_op_request = 1;
inline constexpr uint16_t arp_op_reply = 2;

}  // namespace kgw
