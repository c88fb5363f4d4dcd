#include "pipelines/common/counted_drop.h"
#include "pipelines/conntrack/fragment_stage.h"

#include <rte_mbuf.h>

#include "pipelines/common/packet_keys.h"
#include "pipelines/conntrack/frag_table.h"

namespace kgw {

namespace {

// The datagram's key: addresses, protocol and fragment ID.
flow_key datagram_key(flow_key k, uint32_t id) {
  k.sport = k.dport = 0;
  return frag_key(k, id);
}

bool same_addresses(const flow_key& a, const flow_key& b) {
  return a.family == b.family && a.proto == b.proto && std::memcmp(a.src, b.src, 16) == 0 &&
         std::memcmp(a.dst, b.dst, 16) == 0;
}

void remember_first(pkt_meta& m, conntrack_lcore& s, lcore_counters& c) {
  bool local = m.v == verdict::pending && m.conn != conn_none && !m.related;
  if (!local && m.v != verdict::handoff) return;
  flow_key k = datagram_key(m.key, m.frag_id);
  bool replaced = s.frags->remember(k, flow_hash(k), local ? m.conn : conn_none, m.dir,
                                    local ? frag_owner_self : m.out_port, m.l4_len, s.now_ns);
  c.conntrack.frag_remembered++;
  if (replaced) c.conntrack.frag_replaced++;
}

// Whether the later fragment `m` overlaps what its datagram forwarded before,
// as far as that can be told; the datagram's coverage moves on.
bool overlaps(frag_entry& e, const pkt_meta& m) {
  if (e.seen & frag_overlapped) return true;
  uint32_t offset = uint32_t{m.sport} * 8;
  if (offset == e.covered) e.covered += m.l4_len;
  else if (offset > e.covered) e.seen |= frag_gap;
  else if (!(e.seen & frag_gap)) e.seen |= frag_overlapped;
  return e.seen & frag_overlapped;
}

void follow_first(const uint8_t* frame, pkt_meta& m, const conntrack_lcore& s, lcore_counters& c) {
  flow_key addrs = flow_key_of(frame, m);  // no L4 header: ports zero
  flow_key k = frag_key(addrs, m.frag_id);
  frag_entry* e = s.frags->find(k, flow_hash(k), s.now_ns);
  if (e && e->owner != frag_owner_self) {
    m.v = verdict::handoff;
    m.out_port = e->owner;
    c.lb.handoff_out++;
    c.conntrack.frag_followed++;
    return;
  }
  // The connection must still be the one the first fragment found: its slot
  // may have been freed and given to another flow since.
  if (!e || !same_addresses(s.table->at(e->conn).key[e->dir], addrs)) {
    c.conntrack.frag_unknown++;
    return;
  }
  if (overlaps(*e, m)) {
    count_drop(m, drop_reason::fragment_overlap, c);
    return;
  }
  m.key = addrs;
  m.conn = e->conn;
  m.dir = e->dir;
  c.conntrack.frag_followed++;
}

}  // namespace

void fragment_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s, lcore_counters& c) {
  if (!s.frags) return;
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!m.frag || (m.l3 != l3_kind::ipv4 && m.l3 != l3_kind::ipv6)) continue;
    if (m.frag & frag_first)
      remember_first(m, s, c);
    else if (m.v == verdict::pending)
      follow_first(rte_pktmbuf_mtod(pkts[i], const uint8_t*), m, s, c);
  }
}

}  // namespace kgw
