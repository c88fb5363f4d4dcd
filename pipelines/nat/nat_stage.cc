#include "pipelines/nat/nat_stage.h"

#include <rte_mbuf.h>

#include "pipelines/common/protocols.h"
#include "pipelines/nat/nat.h"

namespace kgw {

namespace {

// SCTP with the CRC32c left to the NIC: the mbuf says where the headers are.
void mark_sctp_offload(rte_mbuf* mb, const pkt_meta& m) {
  mb->ol_flags |= RTE_MBUF_F_TX_SCTP_CKSUM | (m.l3 == l3_kind::ipv4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
  mb->l2_len = m.l3_off;
  mb->l3_len = m.l4_off - m.l3_off;
}

// Two loops, by whether the NIC computes SCTP's CRC: without the offload
// (the default) a TCP or UDP packet is translated exactly as it was before
// SCTP existed; with it, SCTP is told apart first.
template <bool sctp_offload>
void translate(rte_mbuf* mb, uint8_t* frame, pkt_meta& m, const nat_lcore& s, const conn& cn, lcore_counters& c) {
  // TCP and UDP, nearly every packet: by the connection's precomputed deltas.
  if (m.l4_proto == ipproto_tcp || m.l4_proto == ipproto_udp) {
    nat_rewrite_tracked(frame, m, cn.key[1 - m.dir], cn.csum_ip[m.dir], cn.csum_l4[m.dir]);
  } else if constexpr (sctp_offload) {
    if (m.l4_proto == ipproto_sctp) {
      nat_rewrite_sctp_offloaded(frame, m, m.key, cn.key[1 - m.dir]);
      mark_sctp_offload(mb, m);
      c.nat.sctp_crc_offloaded++;
    } else {
      nat_rewrite_reply_of(frame, m, m.key, cn.key[1 - m.dir]);
    }
  } else {
    nat_rewrite_reply_of(frame, m, m.key, cn.key[1 - m.dir]);
  }
  // (The SYN bit tested here: the call is for a handshake's packets only.)
  if (m.dir == 0 && (m.tcp_flags & tcp_syn) && s.mss && tcp_clamp_mss(frame, m, s.mss)) c.nat.mss_clamped++;
  // Every packet of a Service connection passes here once: the place to count
  // it for its Service port and endpoint.
  if (s.counted) {
    s.counted->count_packet(cn.service, m.l3_len);
    s.counted->count_packet(cn.backend, m.l3_len);
  }
}

void translate_error(uint8_t* frame, const pkt_meta& m, const conn& cn, lcore_counters& c) {
  const flow_key& other = cn.key[1 - m.dir];
  icmp_error_rewrite(frame, m, other, other.dst, other.src);
  c.nat.icmp_errors_translated++;
}

template <bool sctp_offload>
void nat_loop(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nat_lcore& s, const conn_table& conns,
              lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending || m.conn == conn_none) continue;
    uint8_t* frame = rte_pktmbuf_mtod(pkts[i], uint8_t*);
    const conn& cn = conns.at(m.conn);
    // A routed pod-to-pod connection: nothing to translate; pod routing forwards it.
    if (__builtin_expect(cn.service == conn_routed_service, 0)) continue;
    if (__builtin_expect(m.related, 0))
      translate_error(frame, m, cn, c);
    else
      translate<sctp_offload>(pkts[i], frame, m, s, cn, c);
    m.v = verdict::tx;
  }
}

}  // namespace

void nat_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nat_lcore& s, const conn_table& conns,
               lcore_counters& c) {
  if (__builtin_expect(s.sctp_crc_offload, 0))
    nat_loop<true>(pkts, meta, n, s, conns, c);
  else
    nat_loop<false>(pkts, meta, n, s, conns, c);
}

}  // namespace kgw
