#include "pipelines/nat/nat_stage.h"

#include <rte_mbuf.h>

#include "pipelines/nat/nat.h"

namespace kgw {

namespace {

void translate(uint8_t* frame, pkt_meta& m, const nat_lcore& s, const conn& cn, lcore_counters& c) {
  nat_rewrite(frame, m, m.key, reverse(cn.key[1 - m.dir]));
  if (m.dir == 0 && s.mss && tcp_clamp_mss(frame, m, s.mss)) c.nat.mss_clamped++;
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

}  // namespace

void nat_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nat_lcore& s, const conn_table& conns,
               lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending || m.conn == conn_none) continue;
    uint8_t* frame = rte_pktmbuf_mtod(pkts[i], uint8_t*);
    const conn& cn = conns.at(m.conn);
    if (__builtin_expect(m.related, 0))
      translate_error(frame, m, cn, c);
    else
      translate(frame, m, s, cn, c);
    m.v = verdict::tx;
  }
}

}  // namespace kgw
