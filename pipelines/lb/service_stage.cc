#include "pipelines/lb/service_stage.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/protocols.h"
#include "pipelines/nat/nat.h"
#include "pipelines/lb/maglev.h"
#include "pipelines/lb/reject.h"

namespace kgw {

namespace {

constexpr uint64_t ns_per_s = 1000000000ull;

void count(lb_counters* arr, uint32_t max, uint32_t i, uint32_t bytes) {
  if (i < max) {
    arr[i].packets++;
    arr[i].bytes += bytes;
  }
}

void leave_towards(uint8_t* frame, pkt_meta& m, const service_lcore& s, uint8_t family, const uint8_t* dst) {
  const neighbor_entry* n = s.nexthops ? nexthop_lookup(*s.nexthops, family, dst) : nullptr;
  if (!n) {
    m.drop(drop_reason::no_neighbor);
    return;
  }
  nexthop_apply(frame, m, *s.nexthops, *n);
}

// Leaves through the connection's cached next hop for direction `dir`, resolving
// it on the first packet. The next-hop table is built once before the workers
// start and never changes, so an index into it stays valid for the connection's life.
void leave_cached(uint8_t* frame, pkt_meta& m, const service_lcore& s, conn& cn, uint8_t dir, const flow_key& to) {
  uint16_t& hop = cn.hop[dir];
  if (hop == 0 && s.nexthops) {
    if (const neighbor_entry* n = nexthop_lookup(*s.nexthops, to.family, to.dst))
      hop = static_cast<uint16_t>(n - s.nexthops->neighbors + 1);
  }
  if (hop == 0) {
    m.drop(drop_reason::no_neighbor);
    return;
  }
  nexthop_apply(frame, m, *s.nexthops, s.nexthops->neighbors[hop - 1]);
}

// A packet of direction `dir` of connection `id`, whose key is `from`, leaves
// looking like the reverse of the other direction's key.
void translate(uint8_t* frame, pkt_meta& m, service_lcore& s, service_stage_counters& c, uint32_t id,
               uint8_t dir, const flow_key& from) {
  conn& cn = s.conns->at(id);
  flow_key to = reverse(cn.key[1 - dir]);
  nat_rewrite(frame, m, from, to);
  if (dir == 0 && s.mss && tcp_clamp_mss(frame, m, s.mss)) c.mss_clamped++;
  count(s.counters, s.n_counters, cn.service, m.l3_len);
  count(s.counters, s.n_counters, cn.backend, m.l3_len);
  leave_cached(frame, m, s, cn, dir, to);
}

bool snat_address(const service_directory& t, uint8_t family, uint8_t* out) {
  std::memset(out, 0, 16);
  if (family == 4 && t.has_snat_v4) {
    std::memcpy(out, t.snat_v4, 4);
    return true;
  }
  if (family == 6 && t.has_snat_v6) {
    std::memcpy(out, t.snat_v6, 16);
    return true;
  }
  return false;
}

// Picks this lcore's next SNAT source port whose reply key is unused and,
// when the reply's port does RSS, whose reply the NIC hashes to this
// worker's queue. Failing the second, an unused port still does: the reply
// then takes the hand-off ring.
bool pick_snat_port(service_lcore& s, flow_key& reply, const rss_port* rss, service_stage_counters& c) {
  uint32_t span = static_cast<uint32_t>(s.port_hi - s.port_lo) + 1;
  int fallback = -1;
  for (unsigned tries = 0; tries < 256; ++tries) {
    uint16_t p = static_cast<uint16_t>(s.port_lo + (s.next_port++ % span));
    reply.dport = static_cast<uint16_t>((p >> 8) | (p << 8));
    if (s.conns->lookup(reply, s.now_ns).id != conn_none) continue;
    if (!rss || rss_queue(*rss, reply) == static_cast<int>(s.worker)) return true;
    if (fallback < 0) fallback = p;
    if (tries >= 64) break;  // bounded work per new flow
  }
  if (fallback < 0) return false;
  c.rss_port_misses++;
  reply.dport = static_cast<uint16_t>((fallback >> 8) | (fallback << 8));
  return true;
}

bool steering_on(const service_lcore& s) { return s.steering && s.steering->n_workers > 1; }

// The worker owning a packet's connection when it is not this one, or -1.
int other_owner(const service_lcore& s, const flow_key& k, const frontend_hit& fh) {
  if (!steering_on(s) || s.from_handoff) return -1;
  const steering_table& st = *s.steering;
  const service_directory& t = *s.services;
  const frontend_slot* fs = fh.frontend;
  int owner = -1;
  if ((k.family == 4 && t.has_snat_v4 && std::memcmp(k.dst, t.snat_v4, 4) == 0) ||
      (k.family == 6 && t.has_snat_v6 && std::memcmp(k.dst, t.snat_v6, 16) == 0)) {
    owner = owner_by_snat_port(st, static_cast<uint16_t>((k.dport >> 8) | (k.dport << 8)));
  } else if (fs && fs->kind != frontend_kind::local_backend && !fh.record->groups()[fs->group].full_nat) {
    owner = static_cast<int>(owner_by_client(st, k.src, k.sport));
  } else {
    frontend_key from{};
    std::memcpy(from.addr, k.src, 16);
    from.port = k.sport;
    from.proto = k.proto;
    from.family = k.family;
    const frontend_slot* b = directory_lookup(t, *s.index, from).frontend;
    if (b && b->kind == frontend_kind::local_backend) owner = static_cast<int>(owner_by_client(st, k.dst, k.dport));
  }
  return owner == static_cast<int>(s.worker) ? -1 : owner;
}

uint32_t client_hash(const flow_key& k) {
  flow_key only_client{};
  std::memcpy(only_client.src, k.src, 16);
  only_client.family = k.family;
  return flow_hash(only_client);
}

// ClientIP affinity remembers the Service port and endpoint by their counter
// slots, which keep meaning the same ones under the Service's later records
// (endpoint positions shift when endpoints come and go). Without slots (the
// counter area is full) it falls back to positions, marked by the top bit:
// the group's by its directory slot and place in the record.
constexpr uint32_t by_position = 0x80000000u;

uint32_t affinity_group(const lb_group& g, const frontend_hit& fh) {
  return g.counter != no_counter ? g.counter : ((fh.slot << 6) + fh.frontend->group) | by_position;
}

uint32_t affinity_endpoint(const backend_entry* be, uint32_t b) {
  return be[b].counter != no_counter ? be[b].counter : b | by_position;
}

// The endpoint's position in the group for a remembered value, or -1.
int affinity_position(const lb_group& g, const backend_entry* be, uint32_t remembered) {
  if (remembered & by_position) {
    uint32_t b = remembered & ~by_position;
    return b < g.n_backends ? static_cast<int>(b) : -1;
  }
  for (uint32_t b = 0; b < g.n_backends; ++b)
    if (be[b].counter == remembered) return static_cast<int>(b);
  return -1;
}

// Endpoint index within the group for a new flow, or -1 when none is ready.
int choose_backend(const service_record& t, const lb_group& g, const frontend_hit& fh, const flow_key& k,
                   service_lcore& s, service_stage_counters& c) {
  if (g.n_ready == 0) return -1;
  const backend_entry* be = t.backends() + g.first_backend;
  uint32_t akey = affinity_group(g, fh);
  if (g.affinity_timeout_s && s.affinity) {
    uint32_t remembered = 0;
    int a = s.affinity->lookup(akey, k.src, s.now_ns, remembered) ? affinity_position(g, be, remembered) : -1;
    if (a >= 0 && (be[a].flags & backend_ready) && !(be[a].flags & backend_terminating)) {
      c.affinity_hits++;
      return a;
    }
  }
  // With affinity the client address alone picks the slot, so every lcore and
  // every gateway node sends one client to the same endpoint.
  uint32_t h = g.affinity_timeout_s ? client_hash(k) : flow_hash(k);
  uint16_t b = maglev_lookup(t.slots() + g.first_slot, g.maglev_size, h);
  if (b == maglev_no_backend || b >= g.n_backends) return -1;
  if (g.affinity_timeout_s && s.affinity)
    s.affinity->remember(akey, k.src, affinity_endpoint(be, b), s.now_ns + g.affinity_timeout_s * ns_per_s);
  return b;
}

void new_flow(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, service_lcore& s,
              service_stage_counters& c, const flow_key& k, const frontend_hit& fh) {
  const service_record& t = *fh.record;
  const lb_group& g = t.groups()[fh.frontend->group];
  int b = choose_backend(t, g, fh, k, s, c);
  if (b < 0) {
    const uint8_t* mac = s.nexthops ? s.nexthops->port_mac[m.in_port < max_ports ? m.in_port : 0] : frame;
    if (icmp_port_unreachable(frame, len, cap, m, mac))
      c.rejected++;
    else
      m.drop(drop_reason::no_tailroom);
    return;
  }
  const backend_entry& be = t.backends()[g.first_backend + b];
  flow_key reply{};
  std::memcpy(reply.src, be.addr, 16);
  reply.sport = be.port;
  reply.proto = k.proto;
  reply.family = k.family;
  uint16_t nat_port = 0;
  if (g.full_nat && snat_address(*s.services, k.family, reply.dst)) {
    const rss_port* rss = nullptr;
    if (steering_on(s) && s.nexthops) {
      const neighbor_entry* n = nexthop_lookup(*s.nexthops, k.family, be.addr);
      if (n && n->port < max_ports && s.steering->port[n->port].enabled) rss = &s.steering->port[n->port];
    }
    if (!pick_snat_port(s, reply, rss, c)) {
      m.drop(drop_reason::snat_ports_exhausted);
      return;
    }
    nat_port = static_cast<uint16_t>((reply.dport >> 8) | (reply.dport << 8));
  } else {
    std::memcpy(reply.dst, k.src, 16);  // client address preserved
    reply.dport = k.sport;
  }
  uint32_t id = s.conns->insert(k, reply, m.l4_proto, m.tcp_flags, s.now_ns);
  if (id == conn_none) {
    m.drop(drop_reason::conntrack_full);
    return;
  }
  conn& cn = s.conns->at(id);
  // Counter slots, not table positions: they stay the same under later records.
  cn.service = g.counter;
  cn.backend = be.counter;
  cn.nat_port = nat_port;
  c.new_flows++;
  for (uint32_t slot : {cn.service, cn.backend}) {
    if (slot < s.n_counters) {
      s.counters[slot].new_flows++;
      s.counters[slot].active++;
    }
  }
  translate(frame, m, s, c, id, 0, k);
}

bool handle_icmp_error(uint8_t* frame, pkt_meta& m, service_lcore& s, service_stage_counters& c) {
  flow_key inner;
  if (!icmp_error_inner_key(frame, m, inner)) return false;
  conn_hit hit = s.conns->lookup(reverse(inner), s.now_ns);
  if (hit.id == conn_none) return false;
  const conn& cn = s.conns->at(hit.id);
  const flow_key& other = cn.key[1 - hit.dir];
  icmp_error_rewrite(frame, m, other, other.dst, other.src);
  c.icmp_errors_translated++;
  leave_towards(frame, m, s, other.family, other.src);
  return true;
}

}  // namespace

namespace {

// A client's SYN on the tuple of a connection both sides closed (or one
// reset) opens a new connection, as in Linux conntrack: clients reuse ports
// once theirs is closed, and the old entry, kept until it times out, must not
// send the new connection to the old endpoint (which may be gone).
bool bare_syn(const pkt_meta& m) { return (m.tcp_flags & (tcp_syn | tcp_ack)) == tcp_syn && m.l4_proto == ipproto_tcp; }

bool reopens(const conn& cn, uint8_t dir) {
  return dir == 0 && (cn.state == conn_state::tcp_time_wait || cn.state == conn_state::tcp_closed);
}

bool wants_service(const pkt_meta& m, const service_lcore& s) {
  return m.v == verdict::pending && (m.l3 == l3_kind::ipv4 || m.l3 == l3_kind::ipv6) && s.conns;
}

// The stage for one packet whose key `k` and its flow_hash `h` are known.
void service_keyed(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, service_lcore& s,
                   service_stage_counters& c, const flow_key& k, uint32_t h) {
  if ((m.l4_proto == ipproto_icmp || m.l4_proto == ipproto_icmpv6) && handle_icmp_error(frame, m, s, c)) return;
  conn_hit hit = s.conns->lookup(k, h, s.now_ns);
  // (A bare SYN tested first: nearly no packet of a tracked connection is one.)
  if (hit.id != conn_none && __builtin_expect(bare_syn(m), 0) && reopens(s.conns->at(hit.id), hit.dir)) {
    s.conns->remove(hit.id);
    c.reopened++;
    hit.id = conn_none;
  }
  if (hit.id != conn_none) {
    c.tracked_pkts++;
    s.conns->update(hit.id, hit.dir, m.tcp_flags, s.now_ns);
    translate(frame, m, s, c, hit.id, hit.dir, k);
    return;
  }
  if (!s.services || (m.l4_proto != ipproto_tcp && m.l4_proto != ipproto_udp)) return;
  // Later fragments carry no ports: they cannot be matched to a frontend
  // (reassembly is not done; they stay unclaimed and are counted as such).
  if (m.frag && !(m.frag & frag_first)) return;
  frontend_key fk{};
  std::memcpy(fk.addr, k.dst, 16);
  fk.port = k.dport;
  fk.proto = k.proto;
  fk.family = k.family;
  frontend_hit fh = directory_lookup(*s.services, *s.index, fk);
  if (int owner = other_owner(s, k, fh); owner >= 0) {
    m.v = verdict::handoff;
    m.out_port = static_cast<uint16_t>(owner);
    c.handoff_out++;
    return;
  }
  if (!fh.frontend || fh.frontend->kind == frontend_kind::local_backend) return;
  new_flow(frame, len, cap, m, s, c, k, fh);
}

}  // namespace

void service_packet(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, service_lcore& s,
                    service_stage_counters& c) {
  if (!wants_service(m, s)) return;
  flow_key k = flow_key_of(frame, m);
  service_keyed(frame, len, cap, m, s, c, k, flow_hash(k));
}

void service_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, service_lcore& s, lcore_counters& c) {
  // Three passes in the manner of a bulk hash lookup: keys hashed and buckets
  // prefetched, then the connections those buckets name prefetched, then the
  // stage proper. Only hints: each packet's lookup still runs in order.
  flow_key keys[max_burst];
  uint32_t hashes[max_burst];
  n = n < max_burst ? n : static_cast<uint16_t>(max_burst);
  for (uint16_t i = 0; i < n; ++i) {
    if (!wants_service(meta[i], s)) continue;
    keys[i] = flow_key_of(rte_pktmbuf_mtod(pkts[i], const uint8_t*), meta[i]);
    hashes[i] = flow_hash(keys[i]);
    s.conns->prefetch_bucket(hashes[i]);
  }
  for (uint16_t i = 0; i < n; ++i)
    if (wants_service(meta[i], s)) s.conns->prefetch_conn(hashes[i]);
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!wants_service(m, s)) continue;
    rte_mbuf* mb = pkts[i];
    uint8_t* data = rte_pktmbuf_mtod(mb, uint8_t*);
    uint32_t len = rte_pktmbuf_data_len(mb);
    uint32_t cap = len + rte_pktmbuf_tailroom(mb);
    service_keyed(data, len, cap, m, s, c.service, keys[i], hashes[i]);
    if (len != rte_pktmbuf_data_len(mb)) {
      mb->data_len = static_cast<uint16_t>(len);
      mb->pkt_len = len;
    }
    if (m.v == verdict::drop) c.drops[static_cast<unsigned>(m.why)]++;
  }
}

void service_on_conn_removed(void* ctx, const conn& c) {
  auto& s = *static_cast<service_lcore*>(ctx);
  if (c.service < s.n_counters) s.counters[c.service].active--;
  if (c.backend < s.n_counters) s.counters[c.backend].active--;
}

}  // namespace kgw
