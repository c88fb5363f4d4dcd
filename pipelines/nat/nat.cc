#include "pipelines/nat/nat.h"

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/packet_keys.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/sctp.h"

namespace kgw {

namespace {

// Up to three checksum fields that cover a rewritten field.
struct csum_refs {
  uint8_t* at[3] = {};
  unsigned n = 0;
  void add(uint8_t* p) { at[n++] = p; }
};

// Replaces `len` bytes (even) at `field` with `nv`, adjusting every checksum that covers them.
void replace(uint8_t* field, const uint8_t* nv, size_t len, const csum_refs& cs) {
  if (std::memcmp(field, nv, len) == 0) return;
  for (unsigned i = 0; i < cs.n; ++i)
    store_be16(cs.at[i], csum_update_words(load_be16(cs.at[i]), field, nv, len / 2));
  std::memcpy(field, nv, len);
}

uint32_t src_off(const pkt_meta& m) { return m.l3 == l3_kind::ipv4 ? 12 : 8; }
uint32_t dst_off(const pkt_meta& m) { return m.l3 == l3_kind::ipv4 ? 16 : 24; }

// Offset of the L4 checksum for the protocols kgw translates, or -1.
int l4_csum_off(uint8_t proto) {
  switch (proto) {
    case ipproto_tcp: return 16;
    case ipproto_udp: return 6;
    case ipproto_icmp:
    case ipproto_icmpv6: return 2;
    default: return -1;
  }
}

}  // namespace

void nat_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& to) {
  nat_rewrite(frame, m, flow_key_of(frame, m), to);
}

namespace {

// The 5-tuple a packet is rewritten to, by reference: the stage reads it
// straight out of the connection's other key, swapped, with no copy.
struct nat_target {
  const uint8_t* src;
  const uint8_t* dst;
  uint16_t sport;  // network order
  uint16_t dport;
};

nat_target target_of(const flow_key& to) { return {to.src, to.dst, to.sport, to.dport}; }

// One body for both: nat_rewrite (every TCP and UDP packet) compiles to what
// it was before SCTP, the SCTP branch aside.
template <bool sctp_crc_in_software>
[[gnu::always_inline]] inline void rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& from,
                                           const nat_target& to) {
  uint8_t* ip = frame + m.l3_off;
  const bool v4 = m.l3 == l3_kind::ipv4;

  // Both addresses, summed once for the IPv4 header and the pseudo-header.
  csum_delta d;
  if (v4) {
    d.change32<1>(from.src, to.src);
    d.change32<1>(from.dst, to.dst);
    std::memcpy(ip + 12, to.src, 4);
    std::memcpy(ip + 16, to.dst, 4);
    csum_apply(ip + 10, d.folded());
  } else {
    d.change32<4>(from.src, to.src);
    d.change32<4>(from.dst, to.dst);
    std::memcpy(ip + 8, to.src, 16);
    std::memcpy(ip + 24, to.dst, 16);
  }
  if (!m.l4_off) return;
  uint8_t* l4 = frame + m.l4_off;
  // TCP and UDP first: nearly every translated packet is one. Ports and the
  // pseudo-header's addresses in one delta.
  if (m.l4_proto == ipproto_tcp || m.l4_proto == ipproto_udp) {
    d.change16(from.sport, to.sport);
    d.change16(from.dport, to.dport);
    std::memcpy(l4, &to.sport, 2);
    std::memcpy(l4 + 2, &to.dport, 2);
    if (m.l4_proto == ipproto_tcp) {
      csum_apply(l4 + 16, d.folded());
      return;
    }
    uint8_t* l4_csum = l4 + 6;
    // An IPv4 UDP checksum of zero means "none" and stays so.
    if (v4 && load_be16(l4_csum) == 0) return;
    csum_apply(l4_csum, d.folded());
    if (load_be16(l4_csum) == 0) store_be16(l4_csum, 0xffff);
    return;
  }
  if (is_icmp(m.l4_proto)) {
    // The pseudo-header covers the addresses for ICMPv6, not ICMPv4.
    if (m.l4_proto == ipproto_icmp) d = {};
    if (is_icmp_echo(m)) {
      d.change16(from.sport, to.sport);  // the echo identifier
      std::memcpy(l4 + 4, &to.sport, 2);
    }
    csum_apply(l4 + 2, d.folded());
  } else if (m.l4_proto == ipproto_sctp) {
    // SCTP's CRC32c covers the SCTP packet alone (no pseudo-header): new
    // addresses leave it as it is; a new port means computing it again over
    // the whole packet, which parse verified on the way in.
    if constexpr (sctp_crc_in_software) {
      if (from.sport == to.sport && from.dport == to.dport) return;
      std::memcpy(l4, &to.sport, 2);
      std::memcpy(l4 + 2, &to.dport, 2);
      sctp_set_checksum(l4, m.l4_len);
    } else {
      std::memcpy(l4, &to.sport, 2);
      std::memcpy(l4 + 2, &to.dport, 2);
      std::memset(l4 + sctp_checksum_off, 0, 4);
    }
  }
}

// The reverse of `other`: its destination becomes the source, and so on.
nat_target reply_of(const flow_key& other) { return {other.dst, other.src, other.dport, other.sport}; }

}  // namespace

void nat_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& to) {
  rewrite<true>(frame, m, from, target_of(to));
}

void nat_rewrite_reply_of(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& other) {
  rewrite<true>(frame, m, from, reply_of(other));
}

void nat_rewrite_tracked(uint8_t* frame, const pkt_meta& m, const flow_key& other, uint16_t ip_delta,
                         uint16_t l4_delta) {
  uint8_t* ip = frame + m.l3_off;
  const bool v4 = m.l3 == l3_kind::ipv4;
  if (v4) {
    std::memcpy(ip + 12, other.dst, 4);
    std::memcpy(ip + 16, other.src, 4);
    csum_apply(ip + 10, ip_delta);
  } else {
    std::memcpy(ip + 8, other.dst, 16);
    std::memcpy(ip + 24, other.src, 16);
  }
  if (!m.l4_off) return;  // a later fragment: no ports
  uint8_t* l4 = frame + m.l4_off;
  std::memcpy(l4, &other.dport, 2);
  std::memcpy(l4 + 2, &other.sport, 2);
  if (m.l4_proto == ipproto_tcp) {
    csum_apply(l4 + 16, l4_delta);
    return;
  }
  uint8_t* l4_csum = l4 + 6;
  // An IPv4 UDP checksum of zero means "none" and stays so.
  if (v4 && load_be16(l4_csum) == 0) return;
  csum_apply(l4_csum, l4_delta);
  if (load_be16(l4_csum) == 0) store_be16(l4_csum, 0xffff);
}

void nat_rewrite_sctp_offloaded(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& other) {
  rewrite<false>(frame, m, from, reply_of(other));
}

bool tcp_clamp_mss(uint8_t* frame, const pkt_meta& m, uint16_t max_mss) {
  if (m.l4_proto != ipproto_tcp || m.l4_off == 0 || !(m.tcp_flags & 0x02)) return false;
  uint8_t* tcp = frame + m.l4_off;
  uint32_t end = (tcp[12] >> 4) * 4u;
  for (uint32_t i = 20; i < end;) {
    uint8_t kind = tcp[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= end || tcp[i + 1] < 2 || i + tcp[i + 1] > end) break;
    if (kind == 2 && tcp[i + 1] == 4) {
      uint16_t mss = load_be16(tcp + i + 2);
      if (mss <= max_mss) return false;
      store_be16(tcp + 16, csum_update16(load_be16(tcp + 16), mss, max_mss));
      store_be16(tcp + i + 2, max_mss);
      return true;
    }
    i += tcp[i + 1];
  }
  return false;
}

void icmp_error_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& inner_to,
                        const uint8_t* outer_src, const uint8_t* outer_dst) {
  icmp_quote q;
  if (!find_icmp_quote(frame, m, q)) return;
  uint32_t n = q.v4 ? 4 : 16;
  // The quoted L4 checksum, when the quote is long enough to hold it.
  int co = l4_csum_off(q.proto);
  uint8_t* inner_l4_csum = co >= 0 && static_cast<uint32_t>(co) + 2 <= q.l4_avail ? q.l4 + co : nullptr;
  if (inner_l4_csum && q.proto == ipproto_udp && q.v4 && load_be16(inner_l4_csum) == 0) inner_l4_csum = nullptr;
  csum_refs cs;
  if (inner_l4_csum && q.proto != ipproto_icmp) cs.add(inner_l4_csum);
  replace(q.ip + (q.v4 ? 12 : 8), inner_to.src, n, cs);
  replace(q.ip + (q.v4 ? 16 : 24), inner_to.dst, n, cs);
  csum_refs port_cs;
  if (inner_l4_csum) port_cs.add(inner_l4_csum);
  // A quoted SCTP header's CRC32c covers a packet the quote holds only the
  // start of: it cannot be computed again and stays as sent (the SCTP stack
  // that reads the error matches it by ports and verification tag).
  if (has_ports(q.proto)) {
    replace(q.l4, reinterpret_cast<const uint8_t*>(&inner_to.sport), 2, port_cs);
    replace(q.l4 + 2, reinterpret_cast<const uint8_t*>(&inner_to.dport), 2, port_cs);
  } else {
    replace(q.l4 + 4, reinterpret_cast<const uint8_t*>(&inner_to.sport), 2, port_cs);
  }
  if (q.v4) store_be16(q.ip + 10, ipv4_header_checksum(q.ip, (q.ip[0] & 0x0f) * 4u));

  uint8_t* ip = frame + m.l3_off;
  std::memcpy(ip + src_off(m), outer_src, n);
  std::memcpy(ip + dst_off(m), outer_dst, n);
  uint8_t* icmp = frame + m.l4_off;
  store_be16(icmp + 2, 0);
  uint32_t sum = 0;
  if (q.v4) {
    store_be16(ip + 10, ipv4_header_checksum(ip, (ip[0] & 0x0f) * 4u));
  } else {
    sum = ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, m.l4_len);
  }
  store_be16(icmp + 2, csum_finish(csum_add_bytes(sum, icmp, m.l4_len)));
}

}  // namespace kgw
