#include "pipelines/route/vxlan.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

namespace {

// The outer IP header over `udp_len` bytes of UDP; returns where UDP starts.
uint8_t* write_outer_ip(uint8_t* ip, uint16_t udp_len, const vxlan_endpoints& e) {
  if (e.family == 6) {
    store_be32(ip, 0x60000000u | (e.flow_label & 0xfffffu));  // version 6, traffic class 0
    store_be16(ip + 4, udp_len);
    ip[6] = ipproto_udp;
    ip[7] = 64;
    std::memcpy(ip + 8, e.src, 16);
    std::memcpy(ip + 24, e.dst, 16);
    return ip + 40;
  }
  ip[0] = 0x45;
  ip[1] = 0;
  store_be16(ip + 2, static_cast<uint16_t>(20 + udp_len));
  store_be16(ip + 4, 0);
  store_be16(ip + 6, 0);  // DF clear, as Linux's vxlan device sends by default
  ip[8] = 64;
  ip[9] = ipproto_udp;
  store_be16(ip + 10, 0);
  std::memcpy(ip + 12, e.src, 4);
  std::memcpy(ip + 16, e.dst, 4);
  store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  return ip + 20;
}

}  // namespace

void vxlan_write(uint8_t* outer, uint16_t l3_len, const vxlan_endpoints& e) {
  const uint16_t udp_len = static_cast<uint16_t>(8 + vxlan_header_len + 14 + l3_len);
  store_be16(outer + 12, e.family == 6 ? ethertype_ipv6 : ethertype_ipv4);
  uint8_t* udp = write_outer_ip(outer + 14, udp_len, e);
  uint8_t* vx = udp + 8;
  uint8_t* inner = vx + vxlan_header_len;
  store_be16(udp, e.src_port);
  store_be16(udp + 2, e.dst_port);
  store_be16(udp + 4, udp_len);
  store_be16(udp + 6, 0);
  store_be32(vx, 0x08000000u);
  store_be32(vx + 4, e.vni << 8);
  std::memcpy(inner, e.dst_mac, 6);
  std::memcpy(inner + 6, e.src_mac, 6);
  store_be16(inner + 12, (inner[14] >> 4) == 6 ? ethertype_ipv6 : ethertype_ipv4);
}

uint16_t vxlan6_udp_checksum(const uint8_t* ip6) {
  const uint16_t udp_len = load_be16(ip6 + 4);
  const uint16_t sum = csum_finish(csum_add_bytes(ipv6_pseudo_sum(ip6 + 8, ip6 + 24, ipproto_udp, udp_len), ip6 + 40,
                                                  udp_len));
  return sum ? sum : 0xffff;
}

}  // namespace kgw
