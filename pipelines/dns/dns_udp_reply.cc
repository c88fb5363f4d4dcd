#include "pipelines/dns/dns_udp_reply.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

void dns_write_udp_reply(uint8_t* frame, uint32_t& len, pkt_meta& m, const uint8_t* src_mac, uint32_t rlen) {
  constexpr uint16_t dns_port = 53;
  bool v4 = m.l3 == l3_kind::ipv4;
  uint8_t* ip = frame + m.l3_off;
  uint32_t alen = v4 ? 4 : 16;
  uint8_t client[16], server[16];
  std::memcpy(client, ip + (v4 ? 12 : 8), alen);
  std::memcpy(server, ip + (v4 ? 16 : 24), alen);
  uint16_t client_port = m.sport;
  uint32_t ip_len = v4 ? 20 : 40;
  uint32_t ulen = 8 + rlen;
  if (v4) {
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(20 + ulen));
    store_be16(ip + 4, 0);
    store_be16(ip + 6, 0);
    ip[8] = 64;
    ip[9] = ipproto_udp;
    store_be16(ip + 10, 0);
    std::memcpy(ip + 12, server, 4);
    std::memcpy(ip + 16, client, 4);
    store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, static_cast<uint16_t>(ulen));
    ip[6] = ipproto_udp;
    ip[7] = 64;
    std::memcpy(ip + 8, server, 16);
    std::memcpy(ip + 24, client, 16);
  }
  uint8_t* u = ip + ip_len;
  store_be16(u, dns_port);
  store_be16(u + 2, client_port);
  store_be16(u + 4, static_cast<uint16_t>(ulen));
  store_be16(u + 6, 0);
  uint32_t ps = v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, ipproto_udp, ulen) : ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_udp, ulen);
  uint16_t us = csum_finish(csum_add_bytes(ps, u, ulen));
  store_be16(u + 6, us ? us : 0xffff);

  len = m.l3_off + ip_len + ulen;
  m.l3_len = static_cast<uint16_t>(ip_len + ulen);
  m.l4_off = static_cast<uint16_t>(m.l3_off + ip_len);
  m.l4_len = static_cast<uint16_t>(ulen);
  // Back where it came from, from the port's own MAC.
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, src_mac, 6);
  m.v = verdict::tx;
  m.out_port = m.in_port;
}

}  // namespace kgw
