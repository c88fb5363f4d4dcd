#include "pipelines/common/packet_keys.h"

#include "pipelines/common/checksum.h"

namespace kgw {

namespace {

bool is_icmp_error(const pkt_meta& m) {
  if (m.l4_proto == ipproto_icmp && m.l3 == l3_kind::ipv4)
    return m.icmp_type == 3 || m.icmp_type == 11 || m.icmp_type == 12;
  if (m.l4_proto == ipproto_icmpv6 && m.l3 == l3_kind::ipv6) return m.icmp_type >= 1 && m.icmp_type <= 4;
  return false;
}

}  // namespace

bool find_icmp_quote(uint8_t* frame, const pkt_meta& m, icmp_quote& q) {
  if (m.l4_off == 0 || m.frag || !is_icmp_error(m)) return false;
  uint8_t* inner = frame + m.l4_off + 8;
  uint32_t avail = m.l4_len - 8u;
  if (m.l3 == l3_kind::ipv4) {
    if (avail < 20 || (inner[0] >> 4) != 4) return false;
    uint32_t ihl = (inner[0] & 0x0f) * 4u;
    if (ihl < 20 || ihl + 8 > avail) return false;
    if (load_be16(inner + 6) & 0x1fff) return false;  // a later fragment has no ports
    q = {inner, inner + ihl, avail - ihl, inner[9], true};
  } else {
    if (avail < 48 || (inner[0] >> 4) != 6) return false;
    q = {inner, inner + 40, avail - 40, inner[6], false};
  }
  return q.proto == ipproto_tcp || q.proto == ipproto_udp || q.proto == ipproto_sctp || q.proto == ipproto_icmp ||
         q.proto == ipproto_icmpv6;
}

bool icmp_error_inner_key(const uint8_t* frame, const pkt_meta& m, flow_key& inner) {
  icmp_quote q;
  if (!find_icmp_quote(const_cast<uint8_t*>(frame), m, q)) return false;
  inner = flow_key{};
  uint32_t n = q.v4 ? 4 : 16;
  std::memcpy(inner.src, q.ip + (q.v4 ? 12 : 8), n);
  std::memcpy(inner.dst, q.ip + (q.v4 ? 16 : 24), n);
  inner.family = q.v4 ? 4 : 6;
  inner.proto = q.proto;
  if (has_ports(q.proto)) {
    std::memcpy(&inner.sport, q.l4, 2);
    std::memcpy(&inner.dport, q.l4 + 2, 2);
  } else {
    std::memcpy(&inner.sport, q.l4 + 4, 2);  // quoted echo: the identifier
    inner.dport = inner.sport;
  }
  return true;
}

}  // namespace kgw
