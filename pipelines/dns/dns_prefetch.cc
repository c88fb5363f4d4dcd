#include "pipelines/dns/dns_prefetch.h"

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "pipelines/common/protocols.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

const node_entry* likely_node(const table& t, uint32_t h) {
  const node_entry* slots = t.index();
  for (uint32_t i = h & t.index_mask, k = 0; k < 4; ++k, i = (i + 1) & t.index_mask) {
    const node_entry& n = slots[i];
    if (n.name_len == 0) return nullptr;
    if (n.hash == h) return &n;
  }
  return nullptr;
}

void prefetch_queries(const uint8_t* const* msgs, const uint32_t* lens, uint32_t n, const table& t) {
  uint32_t hash[max_burst];
  uint32_t k = 0;
  query q;
  // 1: each name hashed, its index slot fetched.
  for (uint32_t i = 0; i < n && k < max_burst; ++i) {
    if (!parse_question_name(msgs[i], lens[i], q)) continue;
    hash[k] = q.hash;
    rte_prefetch0(t.index() + (hash[k] & t.index_mask));
    k++;
  }
  // 2: the node found there: its name, the RDATA after it (the first records'
  // lie in the 32 bytes past the name, dns_table.h) and its records.
  for (uint32_t j = 0; j < k; ++j) {
    const node_entry* nd = likely_node(t, hash[j]);
    if (!nd) continue;
    const uint8_t* name = t.name_of(*nd);
    rte_prefetch0(name);
    rte_prefetch0(name + nd->name_len + 31);
    rte_prefetch0(t.rrs() + nd->first_rr);
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
