#include "pipelines/common/counted_drop.h"
#include "pipelines/route/route_stage.h"

#include <rte_mbuf.h>

#include <cstring>

namespace kgw {

namespace {

// Sends the packet on its way by entry `e`: addressed when it has a MAC,
// dropped when it failed, else handed to the resolver until it has one.
void leave_by(rte_mbuf* mb, uint8_t* frame, pkt_meta& m, const nexthop_table& t, const neighbor_entry& e,
              neighbor_lcore& nb, lcore_counters& c) {
  neighbor_mark_used(nb, static_cast<uint32_t>(&e - t.neighbors));
  if (neighbor_has_mac(e)) {
    nexthop_apply(frame, m, t, e);
  } else if (e.state == neighbor_state::failed) {
    count_drop(m, drop_reason::neighbor_failed, c);
    c.neighbor.failed++;
  } else {
    neighbor_queue(nb, mb, m, e.family, e.ip, e.port, c);
  }
}

// The neighbour entry a connection's direction `dir` leaves by, its hop
// looked up and cached when it has none or its slot changed hands; nullptr
// with `h` filled when the next hop has no entry yet (or there is none).
const neighbor_entry* next_hop(const nexthop_table& t, conn& cn, uint8_t dir, nexthop& h) {
  uint16_t& hop = cn.hop[dir];
  if (hop)
    if (const neighbor_entry* e = nexthop_at_hop(t, hop)) return e;
  // Direction dir leaves as the reverse of the other direction's key: towards its source.
  const flow_key& other = cn.key[1 - dir];
  h = nexthop_resolve(t, other.family, other.src);
  hop = h.entry ? nexthop_hop(t, *h.entry) : 0;
  return h.entry;
}

uint16_t originated_hop(const nexthop_table& t, origin_route_cache& cache, uint8_t family, const uint8_t* dst,
                        nexthop& h) {
  const unsigned len = family == 4 ? 4 : 16;
  unsigned slot = (dst[len - 1] ^ (dst[len - 2] << 1)) % origin_route_cache::size;
  origin_route_cache::entry& e = cache.e[slot];
  if (e.family == family && std::memcmp(e.addr, dst, len) == 0) return e.hop;
  h = nexthop_resolve(t, family, dst);
  if (!h.entry) return 0;  // not cached: the entry the resolver makes comes with a new table
  e.family = family;
  std::memcpy(e.addr, dst, len);
  e.hop = nexthop_hop(t, *h.entry);
  return e.hop;
}

}  // namespace

void route_originated_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t,
                            origin_route_cache& cache, uint64_t& no_route, neighbor_lcore& nb, lcore_counters& c,
                            const pod_route_table* pods) {
  uint64_t gen = t ? __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE) : 0;
  if (cache.table != t || cache.generation != gen) {
    for (auto& e : cache.e) e.family = 0;
    cache.table = t;
    cache.generation = gen;
  }
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::tx) continue;
    uint8_t* frame = rte_pktmbuf_mtod(pkts[i], uint8_t*);
    const uint8_t* ip = frame + m.l3_off;
    uint8_t family = m.l3 == l3_kind::ipv4 ? 4 : m.l3 == l3_kind::ipv6 ? 6 : 0;
    nexthop h;
    uint16_t hop = t && family ? originated_hop(*t, cache, family, family == 4 ? ip + 16 : ip + 24, h) : 0;
    const neighbor_entry* e = hop ? nexthop_at_hop(*t, hop) : nullptr;
    if (e) {
      leave_by(pkts[i], frame, m, *t, *e, nb, c);
    } else if (h.found) {
      neighbor_queue(nb, pkts[i], m, family, h.addr, h.port, c);
    } else if (pods && family && pod_route_lookup(*pods, family, family == 4 ? ip + 16 : ip + 24)) {
      m.v = verdict::pending;
    } else {
      count_drop(m, drop_reason::no_neighbor, c);
      no_route++;
    }
  }
}

void route_leave(rte_mbuf* mb, pkt_meta& m, const nexthop_table& t, uint8_t family, const nexthop& h,
                 neighbor_lcore& nb, lcore_counters& c) {
  if (h.entry) leave_by(mb, rte_pktmbuf_mtod(mb, uint8_t*), m, t, *h.entry, nb, c);
  else if (h.found) neighbor_queue(nb, mb, m, family, h.addr, h.port, c);
  else count_drop(m, drop_reason::no_neighbor, c);
}

void route_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t, conn_table& conns,
                 neighbor_lcore& nb, lcore_counters& c, const pod_route_table* pods) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::tx || m.conn == conn_none) continue;
    if (!t) {
      count_drop(m, drop_reason::no_neighbor, c);
      continue;
    }
    nexthop h;
    const neighbor_entry* e = next_hop(*t, conns.at(m.conn), m.dir, h);
    uint8_t* frame = rte_pktmbuf_mtod(pkts[i], uint8_t*);
    const flow_key& towards = conns.at(m.conn).key[1 - m.dir];
    if (e) leave_by(pkts[i], frame, m, *t, *e, nb, c);
    else if (h.found) neighbor_queue(nb, pkts[i], m, towards.family, h.addr, h.port, c);
    else if (pods && pod_route_lookup(*pods, towards.family, towards.src)) m.v = verdict::pending;
    else count_drop(m, drop_reason::no_neighbor, c);
  }
}

}  // namespace kgw
