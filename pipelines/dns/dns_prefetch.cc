#include "pipelines/dns/dns_prefetch.h"

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "pipelines/common/protocols.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

uint32_t likely_node(const table& t, uint32_t h) {
  const uint64_t* w = t.index();
  for (uint32_t i = h & t.index_mask, k = 0; k < 4; ++k, i = (i + 1) & t.index_mask) {
    uint64_t e = w[i];
    if (e == 0) return no_likely_node;
    if (static_cast<uint32_t>(e >> 32) == h) return static_cast<uint32_t>(e) - 1;
  }
  return no_likely_node;
}

void prefetch_queries(const uint8_t* const* msgs, const uint32_t* lens, uint32_t n, const table& t) {
  uint32_t hash[max_burst], node[max_burst];
  uint16_t qtype[max_burst];
  uint32_t k = 0;
  query q;
  // 1: each name hashed, its index slot fetched.
  for (uint32_t i = 0; i < n && k < max_burst; ++i) {
    if (!parse_question_name(msgs[i], lens[i], q)) continue;
    hash[k] = q.hash;
    qtype[k] = q.qtype;
    rte_prefetch0(t.index() + (hash[k] & t.index_mask));
    k++;
  }
  // 2: the node its slot names.
  for (uint32_t j = 0; j < k; ++j) {
    node[j] = likely_node(t, hash[j]);
    if (node[j] != no_likely_node) rte_prefetch0(t.nodes() + node[j]);
  }
  // 3: the node's name (compared) and records.
  for (uint32_t j = 0; j < k; ++j) {
    if (node[j] == no_likely_node) continue;
    const node_entry& nd = t.nodes()[node[j]];
    rte_prefetch0(t.name_of(nd));
    rte_prefetch0(t.rrs() + nd.first_rr);
  }
  // 4: the data of its first record of the type asked.
  for (uint32_t j = 0; j < k; ++j) {
    if (node[j] == no_likely_node) continue;
    const node_entry& nd = t.nodes()[node[j]];
    const rr_entry* rrs = t.rrs() + nd.first_rr;
    for (uint32_t r = 0; r < nd.n_rrs && r < 4; ++r) {
      if (rrs[r].type != qtype[j]) continue;
      rte_prefetch0(t.data() + rrs[r].rdata_off);
      break;
    }
  }
}

void prefetch_burst(rte_mbuf* const* pkts, const pkt_meta* meta, uint16_t n, const table* t) {
  if (!t || t->total_size < prefetch_min_table_bytes) return;
  const uint8_t* msgs[max_burst];
  uint32_t lens[max_burst];
  uint32_t k = 0;
  for (uint16_t i = 0; i < n && k < max_burst; ++i) {
    const pkt_meta& m = meta[i];
    if (m.v != verdict::pending || m.dport != 53 || m.l4_proto != ipproto_udp || !m.l4_off || m.frag) continue;
    uint32_t at = m.l4_off + 8u, len = rte_pktmbuf_data_len(pkts[i]);
    if (at >= len) continue;
    msgs[k] = rte_pktmbuf_mtod(pkts[i], const uint8_t*) + at;
    lens[k++] = len - at;
  }
  prefetch_queries(msgs, lens, k, *t);
}

}  // namespace kgw::dns
