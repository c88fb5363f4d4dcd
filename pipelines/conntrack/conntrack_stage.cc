#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/conntrack/fragment_stage.h"

#include <rte_mbuf.h>

#include "pipelines/common/packet_keys.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/sctp.h"

namespace kgw {

namespace {

// A later fragment has no ports to be found by: fragment_burst places it.
bool tracked(const pkt_meta& m) {
  return m.v == verdict::pending && (m.l3 == l3_kind::ipv4 || m.l3 == l3_kind::ipv6) && !later_fragment(m);
}

// A client's SYN on the tuple of a connection both sides closed (or one
// reset) opens a new connection, as in Linux conntrack: clients reuse ports
// once theirs is closed, and the old entry, kept until it times out, must not
// send the new connection to the old endpoint (which may be gone).
// An SCTP INIT does the same to a closed association: its bit is the SYN's
// and no chunk takes the ACK's (pipelines/common/sctp.h), so the first test
// still settles nearly every packet.
bool bare_syn(const pkt_meta& m) {
  return (m.tcp_flags & (tcp_syn | tcp_ack)) == tcp_syn && (m.l4_proto == ipproto_tcp || m.l4_proto == ipproto_sctp);
}

// Unless a packet of this same burst used the old connection (seen at this
// very time): it may still be on its way through the stages with it, and the
// new connection could take its slot. Then the old one carries on (the SYN
// moves it back to SYN_SENT), as it did before reopening existed.
bool reopens(const conn& cn, uint8_t dir, uint64_t now_ns) {
  return dir == 0 &&
         (cn.state == conn_state::tcp_time_wait || cn.state == conn_state::tcp_closed ||
          cn.state == conn_state::sctp_closed) &&
         cn.last_seen_ns != now_ns;
}

// An ICMP error quoting a packet of a tracked connection belongs to it, in the
// direction the quoted packet's answer would take.
bool find_related(const uint8_t* frame, pkt_meta& m, conntrack_lcore& s, const conn_removal& gone) {
  flow_key inner;
  if (!icmp_error_inner_key(frame, m, inner)) return false;
  flow_key k = reverse(inner);
  conn_hit hit = s.table->lookup(k, flow_hash(k), s.now_ns, gone);
  if (hit.id == conn_none) return false;
  m.conn = hit.id;
  m.dir = hit.dir;
  m.related = 1;
  return true;
}

// A UDP flow stays on its endpoint only while the endpoint serves: datagrams
// to a removed or non-serving Pod are lost (kube-proxy clears such conntrack
// entries for UDP for the same reason). TCP flows stay: the Pod answers RST.
// Not for a connection a packet of this burst used (see reopens).
bool endpoint_gone(const conn& cn, const conntrack_lcore& s) {
  return cn.key[0].proto == ipproto_udp && cn.backend < s.n_endpoint_slots && !s.endpoint_serving[cn.backend] &&
         cn.last_seen_ns != s.now_ns;
}

}  // namespace

namespace {

// conntrack_packet's body, inlined in the burst's loop (lb calls the
// function for the few packets it looks up again).
[[gnu::always_inline]] inline void track_packet(const uint8_t* frame, pkt_meta& m, conntrack_lcore& s,
                                                const conn_removal& gone, lcore_counters& c) {
  if (is_icmp(m.l4_proto) && find_related(frame, m, s, gone)) return;
  conn_table& t = *s.table;
  conn_hit hit = t.lookup(m.key, m.hash, s.now_ns, gone);
  if (hit.id == conn_none) return;
  // (A bare SYN tested first: nearly no packet of a tracked connection is one.)
  if (__builtin_expect(bare_syn(m), 0) && reopens(t.at(hit.id), hit.dir, s.now_ns)) {
    t.remove(hit.id, gone);
    c.conntrack.reopened++;
    return;
  }
  if (__builtin_expect(endpoint_gone(t.at(hit.id), s), 0)) {
    t.remove(hit.id, gone);
    c.conntrack.udp_moved++;
    return;
  }
  c.conntrack.tracked_pkts++;
  t.update(hit.id, hit.dir, m.tcp_flags, s.now_ns);
  m.conn = hit.id;
  m.dir = hit.dir;
}

}  // namespace

void conntrack_packet(const uint8_t* frame, pkt_meta& m, conntrack_lcore& s, const conn_removal& gone,
                      lcore_counters& c) {
  track_packet(frame, m, s, gone, c);
}

void conntrack_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s,
                     const conn_removal& gone, lcore_counters& c) {
  // Three passes in the manner of a bulk hash lookup: keys taken and hashed
  // and buckets prefetched, then the connections those buckets name
  // prefetched, then the lookups proper. With millions of connections both
  // are cache misses, and overlapping them across the burst hides the latency.
  // The packets to track are told once, in a mask the later passes walk.
  static_assert(max_burst <= 32, "one bit per packet of a burst");
  conn_table& t = *s.table;
  uint32_t todo = 0;
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!tracked(m)) continue;
    todo |= 1u << i;
    m.key = flow_key_of(rte_pktmbuf_mtod(pkts[i], const uint8_t*), m);
    m.hash = flow_hash(m.key);
    t.prefetch_bucket(m.hash);
  }
  for (uint32_t b = todo; b; b &= b - 1) t.prefetch_conn(meta[__builtin_ctz(b)].hash);
  for (uint32_t b = todo; b; b &= b - 1) {
    const unsigned i = __builtin_ctz(b);
    track_packet(rte_pktmbuf_mtod(pkts[i], const uint8_t*), meta[i], s, gone, c);
  }
}

uint32_t conntrack_insert(pkt_meta& m, const flow_key& reply, uint32_t reply_hash, conntrack_lcore& s,
                          const conn_removal& gone) {
  uint32_t id = s.table->insert(m.key, m.hash, reply, reply_hash, m.l4_proto, m.tcp_flags, s.now_ns, gone);
  if (id != conn_none) {
    m.conn = id;
    m.dir = 0;
  }
  return id;
}

}  // namespace kgw
