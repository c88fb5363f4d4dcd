#include "pipelines/dns/dns_udp_reply.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

void dns_write_udp_reply(uint8_t* frame, uint32_t& len, pkt_meta& m, const uint8_t* src_mac, uint32_t rlen,
                         dns_known_sum known) {
  constexpr uint16_t dns_port = 53;
  constexpr uint8_t ttl = 64;
  constexpr uint32_t dns_header_len = 12;
  bool v4 = m.l3 == l3_kind::ipv4;
  uint8_t* ip = frame + m.l3_off;
  uint32_t alen = v4 ? 4 : 16;
  uint8_t* addrs = ip + (v4 ? 12 : 8);  // source then destination, back to back in both families
  // Swapped, the two addresses keep their sum: one sum serves the IPv4
  // header and the pseudo-header.
  uint32_t addr_sum = csum_add_bytes(0, addrs, 2 * alen);
  uint8_t client[16];
  std::memcpy(client, addrs, alen);
  std::memcpy(addrs, addrs + alen, alen);
  std::memcpy(addrs + alen, client, alen);
  uint16_t client_port = m.sport;
  uint32_t ip_len = v4 ? 20 : 40;
  uint32_t ulen = 8 + rlen;
  if (v4) {
    uint16_t total = static_cast<uint16_t>(20 + ulen);
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, total);
    store_be16(ip + 4, 0);
    store_be16(ip + 6, 0);
    ip[8] = ttl;
    ip[9] = ipproto_udp;
    store_be16(ip + 10, csum_finish(addr_sum + 0x4500 + total + (ttl << 8 | ipproto_udp)));
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, static_cast<uint16_t>(ulen));
    ip[6] = ipproto_udp;
    ip[7] = ttl;
  }
  uint8_t* u = ip + ip_len;
  store_be16(u, dns_port);
  store_be16(u + 2, client_port);
  store_be16(u + 4, static_cast<uint16_t>(ulen));
  store_be16(u + 6, 0);
  uint32_t us_sum = addr_sum + ipproto_udp + ulen;
  if (known.end >= dns_header_len && known.end <= rlen) {
    // The two headers from their values, not from the bytes just stored (the
    // UDP header with its checksum field still 0, the message's ID as it came,
    // the rest of its header as known.header), the kept bytes' sum, then the
    // rest: from an odd offset its bytes weigh the other way round, its sum
    // byte-swapped (256 * 256 = 1 modulo 65535).
    us_sum += dns_port + client_port + ulen + load_be16(u + 8) + known.header + known.sum;
    uint16_t rest = csum_fold(csum_add_bytes(0, u + 8 + known.end, rlen - known.end));
    us_sum += known.end & 1 ? static_cast<uint16_t>(rest << 8 | rest >> 8) : rest;
  } else {
    us_sum = csum_add_bytes(us_sum, u, ulen);
  }
  uint16_t us = csum_finish(us_sum);
  store_be16(u + 6, us ? us : 0xffff);

  len = m.l3_off + ip_len + ulen;
  m.l3_len = static_cast<uint16_t>(ip_len + ulen);
  m.l4_off = static_cast<uint16_t>(m.l3_off + ip_len);
  m.l4_len = static_cast<uint16_t>(ulen);
  // Back where it came from, from the port's own MAC.
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, src_mac, 6);
  m.answer();
}

}  // namespace kgw
