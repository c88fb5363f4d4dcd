#include "pipelines/conntrack/conntrack_stage.h"

#include "pipelines/conntrack/conntrack_passes.h"

namespace kgw {

using namespace conntrack_detail;

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
  track_burst(pkts, meta, n, s, gone, c, [](unsigned, const uint8_t*) { return false; });
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
