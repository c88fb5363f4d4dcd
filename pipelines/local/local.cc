#include "pipelines/local/local.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/refusal.h"

namespace kgw {

namespace {

int find_v4(const local_table& t, const uint8_t* a) {
  for (uint32_t i = 0; i < t.n_v4; ++i)
    if (std::memcmp(t.v4[i], a, 4) == 0) return static_cast<int>(i);
  return -1;
}

int find_v6(const local_table& t, const uint8_t* a) {
  for (uint32_t i = 0; i < t.n_v6; ++i)
    if (std::memcmp(t.v6[i], a, 16) == 0) return static_cast<int>(i);
  return -1;
}

// Addresses the gateway answers ARP and ND for: its own, and the SNAT
// address, to which the L4 SNAT's and the stack's backends reply (a peer on
// the segment must resolve it like any address of the node).
bool resolves_v4(const local_table& t, const uint8_t* a) {
  return find_v4(t, a) >= 0 || (t.has_snat_v4 && std::memcmp(t.snat_v4, a, 4) == 0);
}

bool resolves_v6(const local_table& t, const uint8_t* a) {
  return find_v6(t, a) >= 0 || (t.has_snat_v6 && std::memcmp(t.snat_v6, a, 16) == 0);
}

// ff02::1:ffXX:XXXX for one of the addresses the gateway resolves.
bool is_our_solicited_node(const local_table& t, const uint8_t* a) {
  static constexpr uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  if (std::memcmp(a, prefix, 13) != 0) return false;
  for (uint32_t i = 0; i < t.n_v6; ++i)
    if (std::memcmp(t.v6[i] + 13, a + 13, 3) == 0) return true;
  return t.has_snat_v6 && std::memcmp(t.snat_v6 + 13, a + 13, 3) == 0;
}

// Reply goes back where the request came from, from the port's own MAC.
void turn_ethernet(uint8_t* frame, const local_table& t, pkt_meta& m) {
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, t.port_mac[m.in_port < max_ports ? m.in_port : 0], 6);
  m.answer();
}

void punt_or_drop(pkt_meta& m, const local_table& t, local_counters& c) {
  if (t.punt_enabled) {
    m.v = verdict::punt;
    c.punted++;
  } else {
    m.drop(drop_reason::local_unhandled);
  }
}

void to_kernel(pkt_meta& m, local_counters& c) {
  m.v = verdict::exception;
  c.to_kernel++;
}

void answer_arp(uint8_t* frame, pkt_meta& m, const local_table& t, local_counters& c) {
  uint8_t* a = frame + m.l3_off;
  uint16_t op = load_be16(a + 6);
  if (!resolves_v4(t, a + 24)) {  // target protocol address
    c.arp_ignored++;
    return;
  }
  if (op == arp_op_reply) {  // the neighbour stage takes answers when a resolver runs; else control's
    if (kernel_owns(t, 4, a + 24)) to_kernel(m, c);  // an answer to the kernel's own request
    else punt_or_drop(m, t, c);
    return;
  }
  if (op != arp_op_request || (a[8] & 1)) {  // sender hardware address must be unicast
    c.arp_ignored++;
    return;
  }
  const uint8_t* mac = t.port_mac[m.in_port < max_ports ? m.in_port : 0];
  uint8_t target_ip[4];
  std::memcpy(target_ip, a + 24, 4);
  store_be16(a + 6, arp_op_reply);
  std::memcpy(a + 18, a + 8, 10);  // requester's MAC and IP become the target
  std::memcpy(a + 8, mac, 6);
  std::memcpy(a + 14, target_ip, 4);
  turn_ethernet(frame, t, m);
  c.arp_replies++;
}

// TCP (not a RST) and UDP with their header, to a gateway address: no stage
// before this one serves their port, so they are refused as a closed port is.
bool refusable(const pkt_meta& m) {
  if (!m.l4_off || (m.frag && !(m.frag & frag_first))) return false;
  return (m.l4_proto == ipproto_tcp && !(m.tcp_flags & tcp_rst)) || m.l4_proto == ipproto_udp;
}

void refuse(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
            lcore_counters& c) {
  if (!s.refusals->take(s.now_ns)) {
    m.drop(drop_reason::refusal_limited);
    return;
  }
  const uint8_t* mac = t.port_mac[m.in_port < max_ports ? m.in_port : 0];
  if (m.l4_proto == ipproto_tcp ? tcp_reset(frame, len, m, mac) : icmp_port_unreachable(frame, len, cap, m, mac)) {
    ++(m.l4_proto == ipproto_tcp ? c.local.tcp_resets : c.local.udp_unreachables);
    return;
  }
  m.drop(drop_reason::no_tailroom);
}

bool stack_listens(const local_table& t, uint16_t port) {
  for (uint32_t i = 0; i < t.n_tcp_ports; ++i)
    if (t.tcp_ports[i] == port) return true;
  return false;
}

// What is for the gateway but is no echo or neighbour message. `ingress`:
// the destination is an Ingress address, where TCP may be the stack's;
// `kernel`: a node address behind the exception path, where the rest is
// the kernel's (its own listeners refuse, not kgw).
void not_answered(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
                  lcore_counters& c, bool ingress, bool kernel) {
  bool ingress_tcp = ingress && m.l4_proto == ipproto_tcp && m.l4_off && !m.frag;
  if (ingress_tcp && stack_listens(t, m.dport)) {
    m.v = verdict::tcp;
    c.tcp.delivered++;
    return;
  }
  if (kernel) {
    to_kernel(m, c.local);
    return;
  }
  if (s.refusals && refusable(m)) {
    refuse(frame, len, cap, m, t, s, c);
    if (ingress_tcp && m.v == verdict::tx) c.tcp.refused++;
    return;
  }
  punt_or_drop(m, t, c.local);
}

// A segment to a SNAT address on the stack's ports: a reply to an active open.
// The port names the worker that opened it; another worker's is handed over
// (its RSS could not be aimed, docs/tcp.md "Active opens"). True when taken.
bool active_open_reply(const uint8_t* dst, unsigned len, pkt_meta& m, const local_table& t, const local_lcore& s,
                       lcore_counters& c) {
  if (m.l4_proto != ipproto_tcp || !m.l4_off || m.frag) return false;
  const uint8_t* snat = len == 4 ? (t.has_snat_v4 ? t.snat_v4 : nullptr) : (t.has_snat_v6 ? t.snat_v6 : nullptr);
  if (!snat || std::memcmp(dst, snat, len) != 0) return false;
  int owner = connect_owner(t.connect, m.dport);
  if (owner < 0) return false;
  if (static_cast<unsigned>(owner) == s.worker) {
    m.v = verdict::tcp;
    c.tcp.delivered++;
  } else {
    m.v = verdict::handoff;
    m.out_port = static_cast<uint16_t>(owner);
    c.tcp.replies_handed_off++;
  }
  return true;
}

void answer_ipv4(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
                 lcore_counters& lc) {
  local_counters& c = lc.local;
  uint8_t* ip = frame + m.l3_off;
  int at = find_v4(t, ip + 16);
  if (at < 0) {
    active_open_reply(ip + 16, 4, m, t, s, lc);
    return;
  }
  if (m.l4_proto != ipproto_icmp || m.frag || m.icmp_type != icmp_echo_request || m.icmp_code != 0) {
    not_answered(frame, len, cap, m, t, s, lc, (t.v4_ingress >> at) & 1, t.exception && ((t.v4_node >> at) & 1));
    return;
  }
  uint8_t* icmp = frame + m.l4_off;
  if (!csum_verify(0, icmp, m.l4_len)) {
    m.drop(drop_reason::icmp_bad_checksum);
    return;
  }
  uint8_t tmp[4];
  std::memcpy(tmp, ip + 12, 4);
  std::memcpy(ip + 12, ip + 16, 4);
  std::memcpy(ip + 16, tmp, 4);
  ip[8] = 64;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  store_be16(ip + 10, ipv4_header_checksum(ip, ihl));
  icmp[0] = icmp_echo_reply;
  store_be16(icmp + 2, csum_update16(load_be16(icmp + 2), icmp_echo_request << 8, icmp_echo_reply << 8));
  turn_ethernet(frame, t, m);
  c.icmp_echo_replies++;
}

// Options of an NS: all of non-zero length and inside the message; a source
// link-layer address only when the source is specified (RFC 4861 sec. 7.1.1).
bool ns_options_ok(const uint8_t* opt, uint32_t len, bool src_unspecified) {
  uint32_t i = 0;
  while (i < len) {
    if (i + 2 > len) return false;
    uint32_t olen = opt[i + 1] * 8u;
    if (olen == 0 || i + olen > len) return false;
    if (opt[i] == 1 && src_unspecified) return false;
    i += olen;
  }
  return true;
}

bool is_unspecified(const uint8_t* a) {
  static constexpr uint8_t zero[16] = {};
  return std::memcmp(a, zero, 16) == 0;
}

void answer_neighbor_solicit(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m,
                             const local_table& t, local_counters& c) {
  uint8_t* ip = frame + m.l3_off;
  uint8_t* ns = frame + m.l4_off;
  if (m.l4_len < 24 || ip[7] != 255 || m.icmp_code != 0 || ns[8] == 0xff) {
    m.drop(drop_reason::nd_malformed);
    return;
  }
  bool src_unspec = is_unspecified(ip + 8);
  if (!csum_verify(ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, m.l4_len), ns, m.l4_len)) {
    m.drop(drop_reason::icmp_bad_checksum);
    return;
  }
  if (!ns_options_ok(ns + 24, m.l4_len - 24u, src_unspec)) {
    m.drop(drop_reason::nd_malformed);
    return;
  }
  if (!resolves_v6(t, ns + 8)) return;  // someone else's address
  constexpr uint32_t na_len = 32;      // NA with one target link-layer address option
  if (m.l3_off + 40u + na_len > cap) {
    m.drop(drop_reason::no_tailroom);
    return;
  }
  const uint8_t* mac = t.port_mac[m.in_port < max_ports ? m.in_port : 0];
  uint8_t target[16];
  std::memcpy(target, ns + 8, 16);
  // Destination: the solicitor, or all-nodes when it is still doing DAD.
  if (src_unspec) {
    static constexpr uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::memcpy(ip + 24, all_nodes, 16);
    static constexpr uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    std::memcpy(frame + 6, all_nodes_mac, 6);  // turn_ethernet copies it to the destination
  } else {
    std::memcpy(ip + 24, ip + 8, 16);
  }
  std::memcpy(ip + 8, target, 16);
  ip[0] = 0x60;  // version 6, traffic class and flow label cleared
  ip[1] = ip[2] = ip[3] = 0;
  store_be16(ip + 4, na_len);
  ip[6] = ipproto_icmpv6;
  ip[7] = 255;
  uint8_t* na = ip + 40;  // any extension headers of the NS are not repeated
  na[0] = icmp6_neighbor_advert;
  na[1] = 0;
  store_be16(na + 2, 0);
  // Router (kgw forwards), Solicited unless answering DAD, Override.
  na[4] = static_cast<uint8_t>(0x80 | (src_unspec ? 0 : 0x40) | 0x20);
  na[5] = na[6] = na[7] = 0;
  std::memcpy(na + 8, target, 16);
  na[24] = 2;  // target link-layer address
  na[25] = 1;
  std::memcpy(na + 26, mac, 6);
  uint32_t sum = ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, na_len);
  store_be16(na + 2, csum_finish(csum_add_bytes(sum, na, na_len)));
  len = m.l3_off + 40u + na_len;
  m.l3_len = static_cast<uint16_t>(40 + na_len);
  m.l4_off = static_cast<uint16_t>(m.l3_off + 40);
  m.l4_len = na_len;
  turn_ethernet(frame, t, m);
  c.nd_adverts++;
}

void answer_ipv6_echo(uint8_t* frame, pkt_meta& m, const local_table& t, local_counters& c) {
  uint8_t* ip = frame + m.l3_off;
  uint8_t* icmp = frame + m.l4_off;
  if (!csum_verify(ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_icmpv6, m.l4_len), icmp, m.l4_len)) {
    m.drop(drop_reason::icmp_bad_checksum);
    return;
  }
  uint8_t tmp[16];
  std::memcpy(tmp, ip + 8, 16);
  std::memcpy(ip + 8, ip + 24, 16);
  std::memcpy(ip + 24, tmp, 16);
  ip[7] = 64;
  // Swapping source and destination leaves the pseudo-header sum unchanged.
  icmp[0] = icmp6_echo_reply;
  store_be16(icmp + 2, csum_update16(load_be16(icmp + 2), icmp6_echo_request << 8, icmp6_echo_reply << 8));
  turn_ethernet(frame, t, m);
  c.icmp6_echo_replies++;
}

void answer_ipv6(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
                 lcore_counters& lc) {
  local_counters& c = lc.local;
  uint8_t* ip = frame + m.l3_off;
  const uint8_t* dst = ip + 24;
  int at = find_v6(t, dst);
  bool to_us = at >= 0;
  bool icmp6 = m.l4_proto == ipproto_icmpv6 && m.frag == 0 && m.l4_off != 0;
  if (icmp6 && m.icmp_type == icmp6_neighbor_solicit && (resolves_v6(t, dst) || is_our_solicited_node(t, dst))) {
    answer_neighbor_solicit(frame, len, cap, m, t, c);
    return;
  }
  if (!to_us) {
    active_open_reply(dst, 16, m, t, s, lc);
    return;
  }
  // Echo only without extension headers: a routing header would need reversing.
  if (icmp6 && m.icmp_type == icmp6_echo_request && m.icmp_code == 0 && m.l4_off == m.l3_off + 40) {
    answer_ipv6_echo(frame, m, t, c);
    return;
  }
  // NA for neighbour learning, TCP/UDP to the node, ...
  not_answered(frame, len, cap, m, t, s, lc, (t.v6_ingress >> at) & 1, t.exception && ((t.v6_node >> at) & 1));
}

}  // namespace

bool node_address(const local_table& t, uint8_t family, const uint8_t* addr) {
  int at = family == 4 ? find_v4(t, addr) : find_v6(t, addr);
  return at >= 0 && (((family == 4 ? t.v4_node : t.v6_node) >> at) & 1);
}

bool kernel_owns(const local_table& t, uint8_t family, const uint8_t* addr) {
  return t.exception && node_address(t, family, addr);
}

void local_answer(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
                  lcore_counters& c) {
  if (m.v != verdict::pending) return;
  switch (m.l3) {
    case l3_kind::arp:
      answer_arp(frame, m, t, c.local);
      break;
    case l3_kind::ipv4:
      answer_ipv4(frame, len, cap, m, t, s, c);
      break;
    case l3_kind::ipv6:
      answer_ipv6(frame, len, cap, m, t, s, c);
      break;
    case l3_kind::other:
      break;
  }
}

void local_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const local_table& t, local_lcore& s,
                 lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending) continue;
    rte_mbuf* mb = pkts[i];
    uint8_t* data = rte_pktmbuf_mtod(mb, uint8_t*);
    uint32_t len = rte_pktmbuf_data_len(mb);
    uint32_t cap = len + rte_pktmbuf_tailroom(mb);
    local_answer(data, len, cap, m, t, s, c);
    if (len != rte_pktmbuf_data_len(mb)) {
      // Only a single-segment packet reaches here with a rewritten length.
      mb->data_len = static_cast<uint16_t>(len);
      mb->pkt_len = len;
    }
    // Offload flags from RX (checksum status, RSS) do not describe the reply.
    if (m.v == verdict::tx) mb->ol_flags = 0;
    if (m.v == verdict::drop) c.drops[static_cast<unsigned>(m.why)]++;
  }
}

}  // namespace kgw
