#include "pipelines/common/counted_drop.h"
#include "pipelines/route/pod_forward.h"

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/parse/parse.h"
#include "pipelines/route/route_stage.h"
#include "pipelines/route/vxlan.h"

namespace kgw {

namespace {

uint8_t family_of(const pkt_meta& m) { return m.l3 == l3_kind::ipv4 ? 4 : m.l3 == l3_kind::ipv6 ? 6 : 0; }

// Spreads the flows of one pair of Nodes over the underlay's paths (the
// outer UDP source port), the same for every packet of a flow.
uint32_t flow_hash_of(const uint8_t* ip, uint8_t family, const pkt_meta& m) {
  const unsigned alen = family == 4 ? 4 : 16;
  const uint8_t* src = ip + (family == 4 ? 12 : 8);
  uint32_t h = 2166136261u;
  for (unsigned i = 0; i < 2 * alen; ++i) h = (h ^ src[i]) * 16777619u;  // source then destination
  h = (h ^ m.l4_proto) * 16777619u;
  h = (h ^ m.sport) * 16777619u;
  return (h ^ m.dport) * 16777619u;
}

bool ttl_left(const uint8_t* ip, uint8_t family) { return (family == 4 ? ip[8] : ip[7]) > 1; }

void decrement_ttl(uint8_t* ip, uint8_t family) {
  if (family == 6) {
    ip[7]--;
    return;
  }
  uint16_t before = load_be16(ip + 8);
  ip[8]--;
  store_be16(ip + 10, csum_update16(load_be16(ip + 10), before, load_be16(ip + 8)));
}

struct forward_ctx {
  pod_forward_lcore& s;
  const nexthop_table& t;
  neighbor_lcore& nb;
  lcore_counters& c;
};

// `own`: the gateway's own answer, not a packet it forwards (its TTL is the
// one the gateway gave it, not decremented).
void forward(rte_mbuf* mb, pkt_meta& m, const pod_node& node, forward_ctx& x, bool may_answer, bool own = false);

// The encapsulation would not fit the port: the sender learns the MTU left
// inside the tunnel, from an ICMP error that then travels like any packet
// to it (back into a tunnel when it came out of one). kgw does not fragment:
// an IPv4 packet without DF is dropped.
void too_big(rte_mbuf* mb, pkt_meta& m, uint16_t port, unsigned overhead, forward_ctx& x) {
  const pod_network_conf& conf = *x.s.conf;
  const uint8_t family = family_of(m);
  uint8_t* frame = rte_pktmbuf_mtod(mb, uint8_t*);
  const uint8_t* ip = frame + m.l3_off;
  const bool df = family == 6 || (load_be16(ip + 6) & 0x4000);
  const uint8_t* from = family == 4 ? (conf.has_addr4 ? conf.icmp_src4 : nullptr)
                                    : (conf.has_addr6 ? conf.icmp_src6 : nullptr);
  if (!df || !from || mb->nb_segs != 1 || !x.s.refusals || !x.s.refusals->take(x.s.now_ns)) {
    count_drop(m, drop_reason::pod_too_big, x.c);
    return;
  }
  const uint32_t inner_mtu = conf.mtu[port] > overhead ? conf.mtu[port] - overhead : 0;
  icmp_error_kind k = family == 4 ? icmp_error_kind{icmp_dest_unreach, 4, inner_mtu, from}  // fragmentation needed
                                  : icmp_error_kind{icmp6_packet_too_big, 0, inner_mtu, from};
  uint32_t len = rte_pktmbuf_data_len(mb);
  if (!icmp_error(frame, len, len + rte_pktmbuf_tailroom(mb), m, conf.port_mac[m.in_port], k)) {
    count_drop(m, drop_reason::pod_too_big, x.c);
    return;
  }
  mb->data_len = static_cast<uint16_t>(len);
  mb->pkt_len = len;
  mb->ol_flags = 0;
  x.c.pod.too_big_sent++;
  // Without a pod route to the sender, the error goes back where the packet came from.
  if (x.s.routes)
    if (const pod_node* back = pod_route_lookup(*x.s.routes, family, ip + (family == 4 ? 16 : 24)))
      forward(mb, m, *back, x, false);
}

// An IPv6 pod's packet goes over the IPv6 underlay when both ends have an
// IPv6 VTEP (as Flannel's dual-stack sends it through flannel-v6.1), else
// over IPv4 like any: IPv4 pods always do.
bool over_ipv6(const pod_network_conf& conf, const pod_node& node, uint8_t family) {
  return family == 6 && conf.has_vtep6 && node.has_vtep_mac6 && node.has_v6;
}

// The outer IPv6 UDP checksum, over the whole datagram now in place.
void finish_outer_udp6(rte_mbuf* mb) {
  uint8_t* ip = rte_pktmbuf_mtod_offset(mb, uint8_t*, 14);
  uint8_t* sum = ip + 40 + 6;
  if (mb->nb_segs == 1) return store_be16(sum, vxlan6_udp_checksum(ip));
  const uint16_t v = rte_ipv6_udptcp_cksum_mbuf(mb, reinterpret_cast<const rte_ipv6_hdr*>(ip), 14 + 40);
  std::memcpy(sum, &v, 2);
}

void encapsulate(rte_mbuf* mb, pkt_meta& m, const pod_node& node, forward_ctx& x, bool may_answer, bool own) {
  const pod_network_conf& conf = *x.s.conf;
  const uint8_t family = family_of(m);
  const bool v6 = over_ipv6(conf, node, family);
  if (!v6 && !node.has_vtep_mac) return count_drop(m, drop_reason::pod_no_vtep_mac, x.c);
  if (!v6 && !node.has_v4) return count_drop(m, drop_reason::pod_no_node_address, x.c);
  const uint8_t outer_family = v6 ? 6 : 4;
  nexthop h = nexthop_resolve(x.t, outer_family, v6 ? node.addr6 : node.addr4);
  if (!h.found) return count_drop(m, drop_reason::no_neighbor, x.c);
  const unsigned overhead = v6 ? vxlan6_mtu_overhead : vxlan_mtu_overhead;
  const uint16_t port = h.port < max_ports ? h.port : 0;
  if (m.l3_len + overhead > conf.mtu[port]) {
    if (may_answer) return too_big(mb, m, port, overhead, x);
    return count_drop(m, drop_reason::pod_too_big, x.c);
  }
  uint8_t* ip = rte_pktmbuf_mtod_offset(mb, uint8_t*, m.l3_off);
  if (!own) decrement_ttl(ip, family);
  const uint32_t hash = flow_hash_of(ip, family, m);
  const uint16_t before_l3 = static_cast<uint16_t>((v6 ? vxlan6_outer_len : vxlan_outer_len) + 14);
  if (m.l3_off < before_l3 && !rte_pktmbuf_prepend(mb, before_l3 - m.l3_off))
    return count_drop(m, drop_reason::pod_no_headroom, x.c);
  if (m.l3_off > before_l3) rte_pktmbuf_adj(mb, m.l3_off - before_l3);
  const uint32_t want = before_l3 + m.l3_len;  // Ethernet padding of the received frame is not the pod's
  if (rte_pktmbuf_pkt_len(mb) > want) rte_pktmbuf_trim(mb, rte_pktmbuf_pkt_len(mb) - want);
  vxlan_endpoints e{v6 ? conf.vtep_addr6 : conf.vtep_addr4,
                    v6 ? node.addr6 : node.addr4,
                    v6 ? conf.vtep_mac6 : conf.vtep_mac,
                    v6 ? node.vtep_mac6 : node.vtep_mac,
                    conf.vni,
                    conf.vxlan_port,
                    vxlan_source_port(hash),
                    outer_family,
                    hash & 0xfffffu};
  vxlan_write(rte_pktmbuf_mtod(mb, uint8_t*), m.l3_len, e);
  if (v6) finish_outer_udp6(mb);
  m.l3_off = 14;
  m.l3 = v6 ? l3_kind::ipv6 : l3_kind::ipv4;
  m.l3_len = static_cast<uint16_t>(want - 14);
  m.vlan_count = 0;
  mb->ol_flags = 0;
  x.c.pod.encapsulated++;
  route_leave(mb, m, x.t, outer_family, h, x.nb, x.c);
}

void forward(rte_mbuf* mb, pkt_meta& m, const pod_node& node, forward_ctx& x, bool may_answer, bool own) {
  const uint8_t family = family_of(m);
  uint8_t* ip = rte_pktmbuf_mtod_offset(mb, uint8_t*, m.l3_off);
  const uint8_t* dst = ip + (family == 4 ? 16 : 24);
  if (!own && !ttl_left(ip, family)) return count_drop(m, drop_reason::pod_ttl_exceeded, x.c);
  // A pod on one of the gateway's own segments is its own next hop.
  nexthop h = nexthop_resolve(x.t, family, dst);
  if (h.found && std::memcmp(h.addr, dst, family == 4 ? 4 : 16) == 0) {
    decrement_ttl(ip, family);
    x.c.pod.on_link++;
    return route_leave(mb, m, x.t, family, h, x.nb, x.c);
  }
  if (x.s.conf->overlay == pod_overlay::vxlan) return encapsulate(mb, m, node, x, may_answer, own);
  const bool has = family == 4 ? node.has_v4 : node.has_v6;
  if (!has) return count_drop(m, drop_reason::pod_no_node_address, x.c);
  decrement_ttl(ip, family);
  x.c.pod.routed++;
  route_leave(mb, m, x.t, family, nexthop_resolve(x.t, family, family == 4 ? node.addr4 : node.addr6), x.nb, x.c);
}

// Over IPv6 the outer UDP checksum is required (RFC 8200; Linux's vxlan
// sends one unless udp6zerocsumtx is set): a zero or wrong one is a counted
// drop, as Linux drops it without udp6zerocsumrx. The NIC's verdict is
// taken when it gave one. drop_reason::count: the checksum is right.
drop_reason outer_udp6_problem(rte_mbuf* mb, const pkt_meta& m) {
  const uint8_t* frame = rte_pktmbuf_mtod(mb, const uint8_t*);
  const uint8_t* udp = frame + m.l4_off;
  if (load_be16(udp + 6) == 0) return drop_reason::vxlan_zero_checksum;
  const uint64_t nic = mb->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (nic == RTE_MBUF_F_RX_L4_CKSUM_GOOD) return drop_reason::count;
  if (nic == RTE_MBUF_F_RX_L4_CKSUM_BAD) return drop_reason::vxlan_bad_checksum;
  const uint8_t* ip = frame + m.l3_off;
  const uint16_t udp_len = load_be16(udp + 4);
  bool ok;
  if (mb->nb_segs == 1) {
    ok = csum_verify(ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_udp, udp_len), udp, udp_len);
  } else {
    ok = m.l4_off == m.l3_off + 40 &&  // DPDK's mbuf sum knows no extension headers
         rte_ipv6_udptcp_cksum_mbuf_verify(mb, reinterpret_cast<const rte_ipv6_hdr*>(ip), m.l4_off) == 0;
  }
  return ok ? drop_reason::count : drop_reason::vxlan_bad_checksum;
}

// The checksums a segment leaves to the NIC, computed here.
void finish_offloaded_checksums(rte_mbuf* mb, const pkt_meta& m) {
  if (!(mb->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK))) return;
  uint8_t* ip = rte_pktmbuf_mtod_offset(mb, uint8_t*, m.l3_off);
  const uint64_t l4 = mb->ol_flags & RTE_MBUF_F_TX_L4_MASK;
  uint8_t* sum = nullptr;
  if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) sum = ip + (m.l4_off - m.l3_off) + 16;
  else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) sum = ip + (m.l4_off - m.l3_off) + 6;
  if (m.l3 == l3_kind::ipv4) {
    auto* h = reinterpret_cast<rte_ipv4_hdr*>(ip);
    if (mb->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
      h->hdr_checksum = 0;
      h->hdr_checksum = rte_ipv4_cksum(h);
    }
    if (sum) {
      std::memset(sum, 0, 2);
      const uint16_t v = rte_ipv4_udptcp_cksum_mbuf(mb, h, m.l4_off);
      std::memcpy(sum, &v, 2);
    }
  } else if (m.l3 == l3_kind::ipv6 && sum) {
    std::memset(sum, 0, 2);
    const uint16_t v = rte_ipv6_udptcp_cksum_mbuf(mb, reinterpret_cast<const rte_ipv6_hdr*>(ip), m.l4_off);
    std::memcpy(sum, &v, 2);
  }
  mb->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
}

}  // namespace

void pod_forward_originated(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, pod_forward_lcore& s,
                            const nexthop_table* t, neighbor_lcore& nb, lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending) continue;
    const uint8_t family = family_of(m);
    const uint8_t* ip = rte_pktmbuf_mtod_offset(pkts[i], const uint8_t*, m.l3_off);
    const pod_node* node = s.routes && s.conf && t && family
                               ? pod_route_lookup(*s.routes, family, ip + (family == 4 ? 16 : 24))
                               : nullptr;
    if (!node) {
      count_drop(m, drop_reason::no_neighbor, c);
      continue;
    }
    finish_offloaded_checksums(pkts[i], m);
    forward_ctx x{s, *t, nb, c};
    forward(pkts[i], m, *node, x, false, true);
  }
}

void pod_forward_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, pod_forward_lcore& s, const nexthop_table* t,
                       neighbor_lcore& nb, lcore_counters& c) {
  if (!s.routes || !s.conf) return;
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    // The gateway's answer to a sender behind a tunnel (an echo reply, a DNS
    // answer, a port unreachable): back into the tunnel, to the Node that
    // owns the sender's address, instead of out of the underlay port bare.
    if (m.v == verdict::tx && m.tunneled && m.answered && s.conf->overlay == pod_overlay::vxlan) {
      const uint8_t family = family_of(m);
      const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      const pod_node* node = family ? pod_route_lookup(*s.routes, family, frame + m.l3_off + (family == 4 ? 16 : 24))
                                    : nullptr;
      if (!node || !t) continue;  // not a pod's address: as the local stage sent it
      forward_ctx x{s, *t, nb, c};
      forward(pkts[i], m, *node, x, false, true);
      continue;
    }
    if (m.v != verdict::pending) continue;
    const uint8_t family = family_of(m);
    if (!family || m.in_port >= max_ports) continue;
    const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    // A router forwards what was sent to it, not what it overheard on the segment.
    if (std::memcmp(frame, s.conf->port_mac[m.in_port], 6) != 0) continue;
    const uint8_t* dst = frame + m.l3_off + (family == 4 ? 16 : 24);
    const pod_node* node = pod_route_lookup(*s.routes, family, dst);
    if (!node) continue;
    if (!t) {
      count_drop(m, drop_reason::no_neighbor, c);
      continue;
    }
    forward_ctx x{s, *t, nb, c};
    forward(pkts[i], m, *node, x, true);
  }
}

void vxlan_decap_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const pod_network_conf& conf,
                       lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending || m.l4_proto != ipproto_udp || m.dport != conf.vxlan_port) continue;
    rte_mbuf* mb = pkts[i];
    uint8_t* frame = rte_pktmbuf_mtod(mb, uint8_t*);
    const bool v6 = m.l3 == l3_kind::ipv6;
    if (v6 ? !conf.has_vtep6 || std::memcmp(frame + m.l3_off + 24, conf.vtep_addr6, 16) != 0
           : m.l3 != l3_kind::ipv4 || std::memcmp(frame + m.l3_off + 16, conf.vtep_addr4, 4) != 0)
      continue;
    if (m.frag & frag_is_fragment) {
      count_drop(m, drop_reason::vxlan_fragment, c);
      continue;
    }
    if (!m.l4_off || m.l4_len < 8 + vxlan_header_len + 14) {
      count_drop(m, drop_reason::vxlan_short, c);
      continue;
    }
    if (v6) {
      drop_reason why = outer_udp6_problem(mb, m);
      if (why != drop_reason::count) {
        count_drop(m, why, c);
        continue;
      }
    }
    const uint8_t* h = frame + m.l4_off + 8;
    int64_t vni = vxlan_vni(h);
    if (vni < 0) {
      count_drop(m, drop_reason::vxlan_bad_flags, c);
      continue;
    }
    if (vni != conf.vni) {
      count_drop(m, drop_reason::vxlan_bad_vni, c);
      continue;
    }
    uint8_t* inner = frame + m.l4_off + 8 + vxlan_header_len;
    if (std::memcmp(inner, v6 ? conf.vtep_mac6 : conf.vtep_mac, 6) != 0) {
      count_drop(m, drop_reason::vxlan_bad_inner_mac, c);
      continue;
    }
    // From here the inner frame is as if it had arrived on the port, sent to the port's MAC.
    std::memcpy(inner, conf.port_mac[m.in_port < max_ports ? m.in_port : 0], 6);
    const uint32_t end = m.l4_off + m.l4_len;
    if (rte_pktmbuf_pkt_len(mb) > end) rte_pktmbuf_trim(mb, rte_pktmbuf_pkt_len(mb) - end);
    rte_pktmbuf_adj(mb, static_cast<uint16_t>(inner - frame));
    // What the NIC said of the checksums was said of the outer headers.
    mb->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK);
    c.pod.decapsulated++;
    parse_burst(&pkts[i], &m, 1, c);
    m.tunneled = 1;
  }
}

}  // namespace kgw
