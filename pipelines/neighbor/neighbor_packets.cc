#include "pipelines/neighbor/neighbor_packets.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

void build_arp_request(uint8_t* out, const uint8_t* src_mac, const uint8_t* src_ip4, const uint8_t* target_ip4,
                       const uint8_t* dst_mac) {
  static constexpr uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::memcpy(out, dst_mac ? dst_mac : broadcast, 6);
  std::memcpy(out + 6, src_mac, 6);
  store_be16(out + 12, ethertype_arp);
  uint8_t* a = out + 14;
  store_be16(a, 1);               // Ethernet
  store_be16(a + 2, ethertype_ipv4);
  a[4] = 6;
  a[5] = 4;
  store_be16(a + 6, arp_op_request);
  std::memcpy(a + 8, src_mac, 6);
  std::memcpy(a + 14, src_ip4, 4);
  std::memset(a + 18, 0, 6);      // target hardware address: unknown
  std::memcpy(a + 24, target_ip4, 4);
}

void build_neighbor_solicit(uint8_t* out, const uint8_t* src_mac, const uint8_t* src_ip6, const uint8_t* target_ip6,
                            const uint8_t* dst_mac) {
  uint8_t dst_ip[16];
  uint8_t mcast_mac[6] = {0x33, 0x33, 0xff, target_ip6[13], target_ip6[14], target_ip6[15]};
  if (dst_mac) {
    std::memcpy(dst_ip, target_ip6, 16);
  } else {
    static constexpr uint8_t solicited_node[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    std::memcpy(dst_ip, solicited_node, 13);
    std::memcpy(dst_ip + 13, target_ip6 + 13, 3);
    dst_mac = mcast_mac;
  }
  std::memcpy(out, dst_mac, 6);
  std::memcpy(out + 6, src_mac, 6);
  store_be16(out + 12, ethertype_ipv6);
  uint8_t* ip = out + 14;
  constexpr uint16_t icmp_len = 24 + 8;
  ip[0] = 0x60;
  ip[1] = ip[2] = ip[3] = 0;
  store_be16(ip + 4, icmp_len);
  ip[6] = ipproto_icmpv6;
  ip[7] = 255;  // RFC 4861: only from the link
  std::memcpy(ip + 8, src_ip6, 16);
  std::memcpy(ip + 24, dst_ip, 16);
  uint8_t* ns = ip + 40;
  ns[0] = icmp6_neighbor_solicit;
  ns[1] = 0;
  store_be16(ns + 2, 0);
  std::memset(ns + 4, 0, 4);  // reserved
  std::memcpy(ns + 8, target_ip6, 16);
  ns[24] = 1;  // source link-layer address
  ns[25] = 1;  // 8 bytes
  std::memcpy(ns + 26, src_mac, 6);
  uint32_t sum = ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, icmp_len);
  store_be16(ns + 2, csum_finish(csum_add_bytes(sum, ns, icmp_len)));
}

}  // namespace kgw
