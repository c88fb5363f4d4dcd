// VXLAN (RFC 7348) as Flannel's vxlan backend speaks it: outer IPv4/UDP to
// the Node's address (flannel.1), or outer IPv6/UDP to its IPv6 address for
// IPv6 pods in dual-stack (flannel-v6.1), an 8-byte header with the I flag
// and the VNI, and the pod's packet in an Ethernet frame between the two
// VTEPs' MACs.
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr unsigned vxlan_header_len = 8;
// Outer Ethernet + IPv4 + UDP + VXLAN: what encapsulation adds before the inner frame.
inline constexpr unsigned vxlan_outer_len = 14 + 20 + 8 + vxlan_header_len;
// Bytes of outer IPv4 and more that the port's MTU must hold besides the inner L3 packet.
inline constexpr unsigned vxlan_mtu_overhead = 20 + 8 + vxlan_header_len + 14;
// The same over an IPv6 underlay: its header is 20 bytes longer.
inline constexpr unsigned vxlan6_outer_len = 14 + 40 + 8 + vxlan_header_len;
inline constexpr unsigned vxlan6_mtu_overhead = 40 + 8 + vxlan_header_len + 14;

struct vxlan_endpoints {
  const uint8_t* src;        // the gateway's VTEP address (4 or 16 bytes: `family`)
  const uint8_t* dst;        // the Node's
  const uint8_t* src_mac;    // the gateway's VTEP MAC (inner source)
  const uint8_t* dst_mac;    // the Node's VTEP MAC (inner destination)
  uint32_t vni;
  uint16_t dst_port;         // 8472 for Flannel, 4789 for the IANA port
  uint16_t src_port;         // from the inner flow's hash, so that the underlay spreads flows
  uint8_t family = 4;        // of the outer header
  uint32_t flow_label = 0;   // IPv6 underlay: 20 bits, from the same hash (RFC 6438)
};

// Writes the outer headers and the inner Ethernet header in the
// vxlan_outer_len (IPv4) or vxlan6_outer_len (IPv6) + 14 bytes before `l3`
// (the inner IP packet of `l3_len` bytes, whose first byte says its
// version). The outer Ethernet addresses are left for the next hop to fill.
// Over IPv4 the UDP checksum is 0 (RFC 7348 allows it); over IPv6 it is
// left 0 too, for vxlan6_udp_checksum (or its mbuf form) once the whole
// datagram is in place: IPv6 requires it (RFC 8200).
void vxlan_write(uint8_t* outer, uint16_t l3_len, const vxlan_endpoints& e);

// The UDP checksum of a datagram over IPv6 (`ip6`: its IPv6 header without
// extension headers, the datagram contiguous behind it), checksum field
// taken as written (write 0 first); 0 comes out as 0xffff (RFC 8200 8.1).
uint16_t vxlan6_udp_checksum(const uint8_t* ip6);

// The UDP source port for a flow hash: 49152..65535.
inline uint16_t vxlan_source_port(uint32_t hash) {
  return static_cast<uint16_t>(49152 + (hash ^ (hash >> 16)) % 16384);
}

// The VNI of a VXLAN header, or -1 when its I flag is clear.
inline int64_t vxlan_vni(const uint8_t* h) {
  if (!(h[0] & 0x08)) return -1;
  return (uint32_t{h[4]} << 16) | (uint32_t{h[5]} << 8) | h[6];
}

}  // namespace kgw
