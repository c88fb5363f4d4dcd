#include "pipelines/common/refusal.h"

#include <algorithm>
#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"

namespace kgw {

bool icmp_error(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const uint8_t* port_mac, const icmp_error_kind& k) {
  uint8_t* ip = frame + m.l3_off;
  const bool v4 = m.l3 == l3_kind::ipv4;
  const uint32_t outer = v4 ? 28 : 48;  // new IP header + ICMP header
  uint32_t quote;
  if (v4) {
    quote = std::min<uint32_t>(m.l3_len, (ip[0] & 0x0f) * 4u + 8);
  } else {
    quote = std::min<uint32_t>(m.l3_len, 1280 - 48);
  }
  uint32_t new_len = m.l3_off + outer + quote;
  if (new_len > cap) return false;
  std::memmove(ip + outer, ip, quote);
  uint8_t* q = ip + outer;  // the quoted packet, as received
  uint8_t* icmp = ip + (v4 ? 20 : 40);
  if (v4) {
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(outer + quote));
    store_be16(ip + 4, 0);
    store_be16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = ipproto_icmp;
    std::memcpy(ip + 12, k.from ? k.from : q + 16, 4);  // by default from the address the client tried
    std::memcpy(ip + 16, q + 12, 4);
    store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, static_cast<uint16_t>(8 + quote));
    ip[6] = ipproto_icmpv6;
    ip[7] = 64;
    std::memcpy(ip + 8, k.from ? k.from : q + 24, 16);
    std::memcpy(ip + 24, q + 8, 16);
  }
  icmp[0] = k.type;
  icmp[1] = k.code;
  std::memset(icmp + 2, 0, 2);
  store_be32(icmp + 4, k.rest);
  uint32_t icmp_len = 8 + quote;
  uint32_t sum = v4 ? 0 : ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, icmp_len);
  store_be16(icmp + 2, csum_finish(csum_add_bytes(sum, icmp, icmp_len)));

  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, port_mac, 6);
  len = new_len;
  m.l3_len = static_cast<uint16_t>(outer + quote);
  m.l4_off = static_cast<uint16_t>(m.l3_off + (v4 ? 20 : 40));
  m.l4_len = static_cast<uint16_t>(icmp_len);
  m.l4_proto = v4 ? ipproto_icmp : ipproto_icmpv6;
  m.answer();
  return true;
}

bool icmp_port_unreachable(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const uint8_t* port_mac) {
  const bool v4 = m.l3 == l3_kind::ipv4;
  return icmp_error(frame, len, cap, m, port_mac,
                    v4 ? icmp_error_kind{icmp_dest_unreach, 3, 0, nullptr} : icmp_error_kind{icmp6_dest_unreach, 4, 0, nullptr});
}

bool tcp_reset(uint8_t* frame, uint32_t& len, pkt_meta& m, const uint8_t* port_mac) {
  if (m.l4_proto != ipproto_tcp || !m.l4_off || m.l4_len < 20 || (m.tcp_flags & tcp_rst)) return false;
  const bool v4 = m.l3 == l3_kind::ipv4;
  uint8_t* ip = frame + m.l3_off;
  const uint8_t* seg = frame + m.l4_off;
  uint32_t seg_len = m.l4_len - (seg[12] >> 4) * 4u + ((m.tcp_flags & tcp_syn) ? 1 : 0) + ((m.tcp_flags & tcp_fin) ? 1 : 0);
  uint32_t seq = load_be32(seg + 4), ack = load_be32(seg + 8);
  uint16_t sport = load_be16(seg), dport = load_be16(seg + 2);
  uint8_t src[16], dst[16];
  const uint32_t alen = v4 ? 4 : 16;
  std::memcpy(src, ip + (v4 ? 12 : 8), alen);
  std::memcpy(dst, ip + (v4 ? 16 : 24), alen);
  const uint32_t ip_len = v4 ? 20 : 40;
  uint8_t* tcp = ip + ip_len;
  if (v4) {
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(ip_len + 20));
    store_be16(ip + 4, 0);
    store_be16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = ipproto_tcp;
    std::memcpy(ip + 12, dst, 4);
    std::memcpy(ip + 16, src, 4);
    store_be16(ip + 10, 0);
    store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, 20);
    ip[6] = ipproto_tcp;
    ip[7] = 64;
    std::memcpy(ip + 8, dst, 16);
    std::memcpy(ip + 24, src, 16);
  }
  std::memset(tcp, 0, 20);
  store_be16(tcp, dport);
  store_be16(tcp + 2, sport);
  if (m.tcp_flags & tcp_ack) {
    store_be32(tcp + 4, ack);
    tcp[13] = tcp_rst;
  } else {
    store_be32(tcp + 8, seq + seg_len);
    tcp[13] = tcp_rst | tcp_ack;
  }
  tcp[12] = 5 << 4;
  uint32_t sum = v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, ipproto_tcp, 20) : ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_tcp, 20);
  store_be16(tcp + 16, csum_finish(csum_add_bytes(sum, tcp, 20)));

  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, port_mac, 6);
  len = m.l3_off + ip_len + 20;
  m.l3_len = static_cast<uint16_t>(ip_len + 20);
  m.l4_off = static_cast<uint16_t>(m.l3_off + ip_len);
  m.l4_len = 20;
  m.tcp_flags = tcp[13];
  m.answer();
  return true;
}

}  // namespace kgw
