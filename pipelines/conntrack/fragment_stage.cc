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

// NetworkPolicy's drop of a first fragment: its datagram is dropped whole.
bool denied(const pkt_meta& m) {
  return m.v == verdict::drop && (m.why == drop_reason::policy_denied || m.why == drop_reason::policy_revoked);
}

void remember_first(pkt_meta& m, conntrack_lcore& s, lcore_counters& c) {
  bool local = m.v == verdict::pending && m.conn != conn_none && !m.related;
  bool deny = denied(m);
  if (!local && !deny && m.v != verdict::handoff) return;
  flow_key k = datagram_key(m.key, m.frag_id);
  bool replaced = s.frags->remember(k, flow_hash(k), local ? m.conn : conn_none, m.dir,
                                    local || deny ? frag_owner_self : m.out_port, m.l4_len, s.now_ns,
                                    deny ? frag_denied : 0);
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

// False when the datagram has no entry: the fragment may have come before
// its first. Otherwise it follows it, or is counted unknown or dropped.
bool follow_first(const flow_key& addrs, const flow_key& k, uint32_t hash, pkt_meta& m, const conntrack_lcore& s,
                  lcore_counters& c) {
  frag_entry* e = s.frags->find(k, hash, s.now_ns);
  if (!e) return false;
  if (e->seen & frag_denied) {
    count_drop(m, drop_reason::policy_denied, c);
    return true;
  }
  if (e->owner != frag_owner_self) {
    m.v = verdict::handoff;
    m.out_port = e->owner;
    c.lb.handoff_out++;
    c.conntrack.frag_followed++;
    return true;
  }
  // The connection must still be the one the first fragment found: its slot
  // may have been freed and given to another flow since.
  if (!same_addresses(s.table->at(e->conn).key[e->dir], addrs)) {
    c.conntrack.frag_unknown++;
    return true;
  }
  if (overlaps(*e, m)) {
    count_drop(m, drop_reason::fragment_overlap, c);
    return true;
  }
  m.key = addrs;
  m.conn = e->conn;
  m.dir = e->dir;
  c.conntrack.frag_followed++;
  return true;
}

// Whether a later fragment to `k` may wait for its first: its destination
// says it is a Service's (a cluster, external or load-balancer IP, or a node
// address, where NodePorts are), or it is routed TCP or UDP pod traffic
// while NetworkPolicy is enforced: the first's verdict is the datagram's,
// and every first fragment of such traffic that passes is remembered (it
// found or opened a connection, or was handed over). Replies and anything
// else never wait, nor does pod traffic without policy, nor ICMP (an echo
// reply's first fragment may pass unremembered).
bool may_wait(const uint8_t* frame, const pkt_meta& m, const flow_key& k, const lb_lcore& lb,
              const fragment_hold_lcore& h) {
  return lb_service_address(lb, k) || (h.local && node_address(*h.local, k.family, k.dst)) ||
         (has_ports(m.l4_proto) && lb_policy_routed(lb, frame, m.in_port, k));
}

void hold_early(rte_mbuf* pkt, const flow_key& k, uint32_t hash, pkt_meta& m, fragment_hold_lcore& h, uint64_t now_ns,
                lcore_counters& c) {
  rte_mbuf* dropped = h.hold->hold(pkt, k, hash, m.sport, now_ns);
  if (dropped == pkt) {
    count_drop(m, drop_reason::fragment_hold_full, c);
    return;
  }
  m.v = verdict::consumed;
  c.conntrack.frag_held++;
  if (dropped) {
    c.drops[static_cast<unsigned>(drop_reason::fragment_hold_full)]++;
    rte_pktmbuf_free(dropped);
  }
}

}  // namespace

void fragment_hold_expire(fragment_hold_lcore& h, uint64_t now_ns, lcore_counters& c) {
  rte_mbuf* out[max_burst];
  while (uint32_t k = h.hold->take_expired(out, max_burst, now_ns)) {
    c.drops[static_cast<unsigned>(drop_reason::fragment_hold_expired)] += k;
    rte_pktmbuf_free_bulk(out, k);
  }
}

void fragment_hold_clear(fragment_hold_lcore& h, lcore_counters& c) {
  if (!h.hold) return;
  fragment_hold_expire(h, ~uint64_t{0}, c);
  rte_mbuf* out[max_burst];
  while (uint32_t k = h.hold->take_released(out, max_burst)) {
    c.drops[static_cast<unsigned>(drop_reason::fragment_hold_expired)] += k;
    rte_pktmbuf_free_bulk(out, k);
  }
}

void fragment_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s, const lb_lcore& lb,
                    fragment_hold_lcore& h, lcore_counters& c) {
  if (!s.frags) return;
  if (h.hold) fragment_hold_expire(h, s.now_ns, c);
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!m.frag || (m.l3 != l3_kind::ipv4 && m.l3 != l3_kind::ipv6)) continue;
    const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    if (m.frag & frag_first) {
      remember_first(m, s, c);
      // Whatever became of it, its datagram's held fragments go on now:
      // behind it when it was remembered, else as they would have unheld.
      if (h.hold && h.hold->held()) {
        flow_key k = datagram_key(flow_key_of(frame, m), m.frag_id);
        c.conntrack.frag_released += h.hold->release(k, flow_hash(k));
      }
      continue;
    }
    if (m.v != verdict::pending) continue;
    flow_key addrs = flow_key_of(frame, m);  // no L4 header: ports zero
    flow_key k = frag_key(addrs, m.frag_id);
    uint32_t hash = flow_hash(k);
    if (follow_first(addrs, k, hash, m, s, c)) continue;
    if (h.hold && !h.releasing && may_wait(frame, m, addrs, lb, h))
      hold_early(pkts[i], k, hash, m, h, s.now_ns, c);
    else
      c.conntrack.frag_unknown++;
  }
}

}  // namespace kgw
