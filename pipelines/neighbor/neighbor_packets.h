// The solicitations the resolver sends: an ARP request (RFC 826) and an IPv6
// neighbour solicitation (RFC 4861 section 4.3) with our link-layer address,
// broadcast / to the solicited-node multicast group while resolving, unicast
// to the MAC in use while probing (PROBE).
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr unsigned arp_request_len = 14 + 28;
inline constexpr unsigned neighbor_solicit_len = 14 + 40 + 24 + 8;

// Writes the whole frame into `out` (arp_request_len bytes). `dst_mac`
// nullptr: broadcast.
void build_arp_request(uint8_t* out, const uint8_t* src_mac, const uint8_t* src_ip4, const uint8_t* target_ip4,
                       const uint8_t* dst_mac);

// Writes the whole frame into `out` (neighbor_solicit_len bytes). `dst_mac`
// nullptr: to the target's solicited-node multicast address.
void build_neighbor_solicit(uint8_t* out, const uint8_t* src_mac, const uint8_t* src_ip6, const uint8_t* target_ip6,
                            const uint8_t* dst_mac);

}  // namespace kgw
