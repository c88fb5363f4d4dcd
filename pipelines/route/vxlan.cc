#include "pipelines/route/vxlan.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

void vxlan_write(uint8_t* outer, uint16_t l3_len, const vxlan_endpoints& e) {
  uint8_t* ip = outer + 14;
  uint8_t* udp = ip + 20;
  uint8_t* vx = udp + 8;
  uint8_t* inner = vx + vxlan_header_len;
  const uint16_t udp_len = static_cast<uint16_t>(8 + vxlan_header_len + 14 + l3_len);
  store_be16(outer + 12, ethertype_ipv4);
  ip[0] = 0x45;
  ip[1] = 0;
  store_be16(ip + 2, static_cast<uint16_t>(20 + udp_len));
  store_be16(ip + 4, 0);
  store_be16(ip + 6, 0);  // DF clear, as Linux's vxlan device sends by default
  ip[8] = 64;
  ip[9] = ipproto_udp;
  store_be16(ip + 10, 0);
  std::memcpy(ip + 12, e.src4, 4);
  std::memcpy(ip + 16, e.dst4, 4);
  store_be16(ip + 10, ipv4_header_checksum(ip, 20));
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

}  // namespace kgw
