#include "pipelines/common/counted_drop.h"
#include "pipelines/neighbor/neighbor_lcore.h"

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/local/local.h"

namespace kgw {

namespace {

bool send_event(neighbor_lcore& s, neighbor_event& e) {
  return rte_ring_mp_enqueue_elem(s.resolver, &e, sizeof e) == 0;
}

bool ours_v4(const local_table& t, const uint8_t* a) {
  for (uint32_t i = 0; i < t.n_v4; ++i)
    if (std::memcmp(t.v4[i], a, 4) == 0) return true;
  return false;
}

bool ours_v6(const local_table& t, const uint8_t* a) {
  for (uint32_t i = 0; i < t.n_v6; ++i)
    if (std::memcmp(t.v6[i], a, 16) == 0) return true;
  return false;
}

bool usable_mac(const uint8_t* mac) {
  static constexpr uint8_t zero[6] = {};
  return !(mac[0] & 1) && std::memcmp(mac, zero, 6) != 0;
}

// The packet is read: freed here, and out of the dispatcher's hands.
void take(rte_mbuf* mb, pkt_meta& m) {
  rte_pktmbuf_free(mb);
  m.v = verdict::consumed;
}

void hear_arp(rte_mbuf* mb, const uint8_t* frame, pkt_meta& m, const local_table& t, neighbor_lcore& s,
              lcore_counters& c) {
  const uint8_t* a = frame + m.l3_off;  // parse checked the lengths and types
  uint16_t op = load_be16(a + 6);
  const uint8_t* sha = a + 8;
  const uint8_t* spa = a + 14;
  const uint8_t* tpa = a + 24;
  static constexpr uint8_t zero4[4] = {};
  // An ARP probe (sender 0.0.0.0), a sender claiming our address, or a
  // sender MAC nobody can be sent to: nothing to learn.
  if ((op != arp_op_request && op != arp_op_reply) || std::memcmp(spa, zero4, 4) == 0 || ours_v4(t, spa) ||
      !usable_mac(sha))
    return;
  bool to_us = ours_v4(t, tpa);
  bool gratuitous = std::memcmp(spa, tpa, 4) == 0;
  neighbor_event e{};
  e.kind = neighbor_event_kind::arp;
  e.family = 4;
  e.port = m.in_port;
  e.worker = s.worker;
  e.flags = static_cast<uint8_t>((to_us ? nbf_to_us : 0) | (op == arp_op_reply ? nbf_reply : 0));
  std::memcpy(e.mac, sha, 6);
  std::memcpy(e.ip, spa, 4);
  if (!send_event(s, e)) {
    c.neighbor.events_lost++;
    return;
  }
  c.neighbor.heard++;
  // An answer to the kernel's own request goes on to it (the local stage's
  // rule); the resolver has learnt from it all the same.
  if (op == arp_op_reply && to_us && kernel_owns(t, 4, tpa)) return;
  if ((op == arp_op_reply && to_us) || gratuitous) take(mb, m);
}

// Options of an NS or NA (RFC 4861 section 4.6): each of non-zero length,
// inside the message. The link-layer address option of `type` (1: source,
// 2: target), when present, in `mac`.
bool nd_options(const uint8_t* opt, uint32_t len, uint8_t type, const uint8_t*& mac) {
  mac = nullptr;
  for (uint32_t i = 0; i < len;) {
    if (i + 2 > len) return false;
    uint32_t olen = opt[i + 1] * 8u;
    if (olen == 0 || i + olen > len) return false;
    if (opt[i] == type && olen >= 8) mac = opt + i + 2;
    i += olen;
  }
  return true;
}

void hear_nd(rte_mbuf* mb, const uint8_t* frame, pkt_meta& m, const local_table& t, neighbor_lcore& s,
             lcore_counters& c) {
  const uint8_t* ip = frame + m.l3_off;
  const uint8_t* nd = frame + m.l4_off;
  bool na = m.icmp_type == icmp6_neighbor_advert;
  // RFC 4861 sections 7.1.1 and 7.1.2: from the link (hop limit 255), code 0,
  // 24 bytes at least, a good checksum, a unicast target, options well formed.
  if (ip[7] != 255 || m.icmp_code != 0 || m.l4_len < 24 || nd[8] == 0xff) return;
  if (!csum_verify(ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, m.l4_len), nd, m.l4_len)) return;
  const uint8_t* mac;
  if (!nd_options(nd + 24, m.l4_len - 24u, na ? 2 : 1, mac)) return;
  const uint8_t* target = nd + 8;
  neighbor_event e{};
  e.family = 6;
  e.port = m.in_port;
  e.worker = s.worker;
  if (na) {
    uint8_t f = nd[4];
    bool solicited = f & 0x40;
    if (solicited && ip[24] == 0xff) return;  // a solicited NA to a multicast address is invalid
    if (ours_v6(t, target)) return;           // someone else defending our address: not a neighbour
    if (mac && !usable_mac(mac)) return;
    e.kind = neighbor_event_kind::na;
    e.flags = static_cast<uint8_t>((solicited ? nbf_solicited : 0) | (f & 0x20 ? nbf_override : 0) |
                                   (f & 0x80 ? nbf_router : 0) | (mac ? nbf_has_mac : 0));
    std::memcpy(e.ip, target, 16);
  } else {
    static constexpr uint8_t unspecified[16] = {};
    // Duplicate address detection (unspecified source) teaches nothing;
    // without a source link-layer address there is no MAC to learn.
    if (!mac || std::memcmp(ip + 8, unspecified, 16) == 0 || !usable_mac(mac) || ours_v6(t, ip + 8)) return;
    e.kind = neighbor_event_kind::ns;
    e.flags = ours_v6(t, target) ? nbf_to_us : 0;
    std::memcpy(e.ip, ip + 8, 16);
  }
  if (mac) std::memcpy(e.mac, mac, 6);
  if (!send_event(s, e)) {
    c.neighbor.events_lost++;
    return;
  }
  c.neighbor.heard++;
  // An NA to a node address answers the kernel's solicitation: its too (the local stage's rule).
  if (na && !kernel_owns(t, 6, ip + 24)) take(mb, m);
}

}  // namespace

void neighbor_queue(neighbor_lcore& s, rte_mbuf* mb, pkt_meta& m, uint8_t family, const uint8_t* addr, uint16_t port,
                    lcore_counters& c) {
  if (!s.resolver) {
    count_drop(m, drop_reason::no_neighbor, c);
    return;
  }
  c.neighbor.misses++;
  neighbor_event e{};
  e.pkt = mb;
  e.kind = neighbor_event_kind::miss;
  e.family = family;
  e.port = port;
  e.worker = s.worker;
  std::memcpy(e.ip, addr, family == 4 ? 4 : 16);
  if (!send_event(s, e)) {
    count_drop(m, drop_reason::neighbor_queue_full, c);
    return;
  }
  m.v = verdict::consumed;
}

void neighbor_snoop_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const local_table& t, neighbor_lcore& s,
                          lcore_counters& c) {
  if (!s.resolver) return;
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending) continue;
    if (m.l3 == l3_kind::arp) {
      hear_arp(pkts[i], rte_pktmbuf_mtod(pkts[i], const uint8_t*), m, t, s, c);
    } else if (m.l3 == l3_kind::ipv6 && m.l4_proto == ipproto_icmpv6 && m.l4_off && !m.frag &&
               (m.icmp_type == icmp6_neighbor_advert || m.icmp_type == icmp6_neighbor_solicit)) {
      hear_nd(pkts[i], rte_pktmbuf_mtod(pkts[i], const uint8_t*), m, t, s, c);
    }
  }
}

}  // namespace kgw
