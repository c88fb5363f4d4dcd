#include "pipelines/common/counted_drop.h"
#include "pipelines/lb/lb_stage.h"

#include <rte_mbuf.h>

#include <cstring>
#include <initializer_list>
#include <new>

#include "pipelines/common/packet_keys.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/refusal.h"
#include "pipelines/common/sctp.h"
#include "pipelines/lb/endpoint_pick.h"
#include "pipelines/policy/policy_batch.h"

namespace kgw {

namespace {

bool pending_ip(const pkt_meta& m) { return m.v == verdict::pending && (m.l3 == l3_kind::ipv4 || m.l3 == l3_kind::ipv6); }

bool steering_on(const lb_lcore& s) { return s.steering && s.steering->n_workers > 1; }

void count_removed(void* slots, const conn& cn) {
  const lb_slots& s = *static_cast<const lb_slots*>(slots);
  if (cn.service < s.n) s.at[cn.service].active--;
  if (cn.backend < s.n) s.at[cn.backend].active--;
}

// conntrack_burst looked every packet up before this stage opened any
// connection. Once one is open, a later miss may belong to it (a SYN and its
// SYN-ACK, a query and the ICMP error it caused, in one burst): it is looked
// up again, as it would have been one by one. (A hit stays valid: the table
// evicts no connection seen at this time.) The keys of the connections opened
// so far leave one bit each of 256, by their hash: a miss whose bit is clear
// belongs to none of them and is not looked up again. An ICMP error is looked
// up by the key it quotes, which this does not cover: always again.
struct opened_keys {
  bool any = false;
  uint64_t bits[4] = {};

  void add(uint32_t hash) {
    any = true;
    bits[hash >> 30] |= uint64_t{1} << ((hash >> 24) & 63);
  }
  bool may_hold(uint32_t hash) const { return bits[hash >> 30] & (uint64_t{1} << ((hash >> 24) & 63)); }
};

void look_again(const uint8_t* frame, pkt_meta& m, const opened_keys& opened, conntrack_lcore& ct,
                const conn_removal& gone, lcore_counters& c) {
  if (m.conn == conn_none && (opened.may_hold(m.hash) || is_icmp(m.l4_proto)))
    conntrack_packet(frame, m, ct, gone, c);
}

// How replies from an endpoint find this worker: the port it is behind has
// an rte_flow rule for this worker's SNAT ports (nothing to aim), or RSS that
// a SNAT port can be aimed at (`rss`), or neither (the hand-off ring).
struct reply_steering {
  const rss_port* rss = nullptr;
  bool by_flow_rule = false;
};

reply_steering endpoint_steering(const lb_lcore& s, uint8_t family, const uint8_t* addr) {
  if (!steering_on(s) || !s.nexthops) return {};
  nexthop h = nexthop_resolve(*s.nexthops, family, addr);
  if (!h.found || h.port >= max_ports) return {};
  if (flow_steered(*s.steering, h.port)) return {nullptr, true};
  return {s.steering->port[h.port].enabled ? &s.steering->port[h.port] : nullptr, false};
}

// ICMP port unreachable back to the client, within the worker's rate.
bool refuse(rte_mbuf* mb, pkt_meta& m, const lb_lcore& s, uint64_t now_ns, lcore_counters& c) {
  if (s.refusals && !s.refusals->take(now_ns)) {
    count_drop(m, drop_reason::refusal_limited, c);
    return false;
  }
  uint8_t* frame = rte_pktmbuf_mtod(mb, uint8_t*);
  uint32_t len = rte_pktmbuf_data_len(mb);
  uint32_t cap = len + rte_pktmbuf_tailroom(mb);
  const uint8_t* mac = s.nexthops ? s.nexthops->port_mac[m.in_port < max_ports ? m.in_port : 0] : frame;
  if (!icmp_port_unreachable(frame, len, cap, m, mac)) {
    count_drop(m, drop_reason::no_tailroom, c);
    return false;
  }
  mb->data_len = static_cast<uint16_t>(len);
  mb->pkt_len = len;
  return true;
}

// The key replies of a new connection to endpoint `be` arrive with: from the
// endpoint to the SNAT address and a port of this worker's (full NAT, the
// port in `nat_port`), or to the client's own address and port. False when
// no SNAT port is free.
bool reply_key(const pkt_meta& m, bool full_nat, const backend_entry& be, lb_lcore& s, conntrack_lcore& ct,
               const conn_removal& gone, lcore_counters& c, flow_key& reply, uint32_t& reply_hash,
               uint16_t& nat_port) {
  const flow_key& k = m.key;
  reply = flow_key{};
  std::memcpy(reply.src, be.addr, 16);
  reply.sport = be.port;
  reply.proto = k.proto;
  reply.family = k.family;
  const uint8_t* snat = full_nat ? snat_address(*s.services, k.family) : nullptr;
  if (!snat) {
    std::memcpy(reply.dst, k.src, 16);  // client address preserved
    reply.dport = k.sport;
    reply_hash = flow_hash(reply);
    return true;
  }
  std::memcpy(reply.dst, snat, k.family == 4 ? 4 : 16);
  bool rss_missed = false;
  reply_steering how = endpoint_steering(s, k.family, be.addr);
  if (!pick_snat_port(s.snat_ports, m.hash, how.rss, s.worker, *ct.table, ct.now_ns, gone, reply, reply_hash,
                      rss_missed))
    return false;
  if (steering_on(s)) ++(how.by_flow_rule ? c.lb.snat_by_flow_rule
                         : how.rss && !rss_missed ? c.lb.snat_rss_aimed
                                                  : c.lb.rss_port_misses);
  nat_port = static_cast<uint16_t>((reply.dport >> 8) | (reply.dport << 8));
  return true;
}

// The connection packet `m` opens, replies arriving as `reply`, tracked and
// its keys noted as opened in this burst; conn_none, the packet dropped
// (conntrack_full), when the table has no room.
uint32_t track(pkt_meta& m, const flow_key& reply, uint32_t reply_hash, conntrack_lcore& ct, opened_keys& opened,
               const conn_removal& gone, lcore_counters& c) {
  uint32_t id = conntrack_insert(m, reply, reply_hash, ct, gone);
  if (id == conn_none) {
    count_drop(m, drop_reason::conntrack_full, c);
    return conn_none;
  }
  opened.add(m.hash);
  opened.add(reply_hash);
  return id;
}

// Picks the endpoint of a new flow to frontend `fh`; -1 when it has no ready
// one (the client is refused, as by kube-proxy).
int choose_endpoint(rte_mbuf* mb, pkt_meta& m, const frontend_hit& fh, lb_lcore& s, conntrack_lcore& ct,
                    lcore_counters& c) {
  const lb_group& g = fh.record->groups()[fh.frontend->group];
  int e = pick_endpoint(g, fh, m.key, m.hash, s.affinity, ct.now_ns, c.lb);
  if (e < 0 && refuse(mb, m, s, ct.now_ns, c)) c.lb.rejected++;
  return e;
}

void open_connection(pkt_meta& m, const frontend_hit& fh, int e, lb_lcore& s, conntrack_lcore& ct,
                     opened_keys& opened, const conn_removal& gone, lcore_counters& c) {
  const lb_group& g = fh.record->groups()[fh.frontend->group];
  // Only a connection the policy allowed is remembered: a denied client
  // must not hold (or renew) an affinity entry.
  remember_endpoint(g, fh, m.key, e, s.affinity, ct.now_ns);
  bool full_nat = !keeps_client(g.full_nat, fh.frontend->kind) || from_cluster(*s.services, m.key.family, m.key.src);
  const backend_entry& be = fh.record->backends()[g.first_backend + e];
  // Hairpin: a Pod reaching itself through the Service must see the
  // gateway's address, or it would answer itself directly.
  if (!full_nat && std::memcmp(m.key.src, be.addr, 16) == 0) full_nat = true;
  flow_key reply;
  uint32_t reply_hash;
  uint16_t nat_port = 0;
  if (!reply_key(m, full_nat, be, s, ct, gone, c, reply, reply_hash, nat_port)) {
    count_drop(m, drop_reason::snat_ports_exhausted, c);
    return;
  }
  uint32_t id = track(m, reply, reply_hash, ct, opened, gone, c);
  if (id == conn_none) return;
  conn& cn = ct.table->at(id);
  // Counter slots, not table positions: they stay the same under later records.
  cn.service = g.counter;
  cn.backend = be.counter;
  cn.nat_port = nat_port;
  cn.policy_gen = s.policy ? s.policy_gen : 0;
  c.lb.new_flows++;
  if ((m.l4_proto == ipproto_tcp && !(m.tcp_flags & tcp_syn)) ||
      (m.l4_proto == ipproto_sctp && !(m.sctp_chunks & sctp_bit_init)))
    c.lb.picked_up++;
  for (uint32_t slot : {cn.service, cn.backend}) {
    if (slot < s.counters.n) {
      s.counters.at[slot].new_flows++;
      s.counters.at[slot].active++;
    }
  }
}

// A routed pod-to-pod flow the policy allowed: tracked without NAT (its
// replies are its reversed key), so that they and its later packets pass
// unclassified; pod routing forwards them all.
void open_routed(pkt_meta& m, const lb_lcore& s, conntrack_lcore& ct, opened_keys& opened, const conn_removal& gone,
                 lcore_counters& c) {
  const flow_key reply = reverse(m.key);
  uint32_t id = track(m, reply, flow_hash(reply), ct, opened, gone, c);
  if (id == conn_none) return;
  conn& cn = ct.table->at(id);
  cn.service = cn.backend = conn_routed_service;
  cn.policy_gen = s.policy_gen;
  c.policy.routed_opened++;
}

// What waits for the burst's policy verdicts, by its index in the batch.
struct awaiting {
  enum : uint8_t { service, routed, recheck } kind;
  uint16_t pkt;
  int endpoint;     // service: the endpoint picked
  frontend_hit fh;  // service
  uint32_t conn;    // recheck: the connection classified again
};

// One burst's work for lb_burst: the flows gathered for one classify call
// and what each of them waits to do. Nothing of the gathering is cleared up
// front (see policy_batch): raw storage for what waits, filled as flows are
// gathered.
struct lb_burst_ctx {
  lb_burst_ctx(rte_mbuf* const* p, pkt_meta* m, lb_lcore& st, conntrack_lcore& t, lcore_counters& k)
      : pkts(p), meta(m), s(st), ct(t), c(k), gone(lb_removal(st.counters)) {}

  rte_mbuf* const* pkts;
  pkt_meta* meta;
  lb_lcore& s;
  conntrack_lcore& ct;
  lcore_counters& c;
  const conn_removal gone;
  opened_keys opened;
  policy_batch batch;
  alignas(awaiting) unsigned char wait_storage[sizeof(awaiting) * policy_batch::capacity];
  awaiting* waits = reinterpret_cast<awaiting*>(wait_storage);
};

// A connection classified under an earlier policy generation, classified
// again: allowed, it carries on stamped with this one; denied, it is cut:
// removed, and its packet dropped (policy_revoked), as every later one will
// be (a new flow then, that the policy denies). Every packet of it in this
// burst waits with it and meets the same verdict.
void settle_recheck(lb_burst_ctx& x, const awaiting& a, const policy_verdict& v) {
  pkt_meta& m = x.meta[a.pkt];
  conn& cn = x.ct.table->at(a.conn);
  const bool same = cn.state != conn_state::free && cn.policy_gen != x.s.policy_gen;  // not reopened meanwhile
  if (v.allow) {
    if (same) {
      cn.policy_gen = x.s.policy_gen;
      x.c.policy.rechecked++;
    }
    return;
  }
  if (same) {
    x.ct.table->remove(a.conn, x.gone);
    x.c.policy.rechecked++;
    x.c.policy.revoked++;
  }
  m.conn = conn_none;
  count_drop(m, drop_reason::policy_revoked, x.c);
}

// Classifies what the burst gathered so far, in one call, and acts on each
// verdict in the order the packets came.
void settle(lb_burst_ctx& x) {
  if (x.batch.n == 0) return;
  lb_reload_policy(x.s);
  // Every rule removed since the flows were gathered: nothing is denied.
  const bool classified = x.s.policy != nullptr;
  const policy_verdict unclassified{true, policy_none, policy_none, policy_none, policy_none};
  if (classified) {
    x.batch.classify(*x.s.policy);
    x.c.policy.classify_calls++;
  }
  for (uint32_t k = 0; k < x.batch.n; ++k) {
    const awaiting& a = x.waits[k];
    const policy_verdict v = classified ? x.batch.verdicts[k] : unclassified;
    x.s.policy_hits.count(v);
    if (a.kind == awaiting::recheck) {
      settle_recheck(x, a, v);
      continue;
    }
    pkt_meta& m = x.meta[a.pkt];
    ++(v.allow ? x.c.policy.allowed : x.c.policy.denied);
    if (!v.allow) count_drop(m, drop_reason::policy_denied, x.c);
    else if (a.kind == awaiting::service) open_connection(m, a.fh, a.endpoint, x.s, x.ct, x.opened, x.gone, x.c);
    else open_routed(m, x.s, x.ct, x.opened, x.gone, x.c);
  }
  x.batch.done();
}

awaiting& gather(lb_burst_ctx& x, uint16_t i, const policy_flow& f) {
  if (x.batch.full()) settle(x);
  awaiting& a = *new (&x.waits[x.batch.add(f, x.meta[i].hash)]) awaiting;
  a.pkt = i;
  return a;
}

policy_flow flow_to(const flow_key& k, const uint8_t* dst16, uint16_t dport_net) {
  flow_key answer{};
  std::memcpy(answer.src, dst16, 16);
  answer.sport = dport_net;
  return policy_flow_of(k, answer);
}

void gather_routed(lb_burst_ctx& x, uint16_t i) {
  const flow_key& k = x.meta[i].key;
  gather(x, i, policy_flow_of(k, reverse(k))).kind = awaiting::routed;
}

bool echo_request(const pkt_meta& m) {
  return m.l4_off && !m.frag &&
         (m.l3 == l3_kind::ipv4 ? m.l4_proto == ipproto_icmp && m.icmp_type == icmp_echo_request
                                : m.l4_proto == ipproto_icmpv6 && m.icmp_type == icmp6_echo_request);
}

// Whether a connection is to be classified again: NetworkPolicy changed
// since it was last allowed.
bool stale(const lb_lcore& s, const conn& cn) { return cn.policy_gen != s.policy_gen; }

// A new flow to a Pod that pod routing will forward, as pod_forward_burst
// tells them, when NetworkPolicy is enforced.
bool routed_to_pod(const lb_lcore& s, const uint8_t* frame, const pkt_meta& m) {
  return lb_policy_routed(s, frame, m.in_port, m.key);
}

frontend_key frontend_of(const flow_key& k) {
  frontend_key fk{};
  std::memcpy(fk.addr, k.dst, 16);
  fk.port = k.dport;
  fk.proto = k.proto;
  fk.family = k.family;
  return fk;
}

// A miss that may open a connection: TCP, UDP or SCTP with ports (later
// fragments carry none; without reassembly they stay unclaimed, counted as
// such; parse drops SCTP in fragments).
bool may_open(const pkt_meta& m) { return has_ports(m.l4_proto) && (!m.frag || (m.frag & frag_first)); }

}  // namespace

conn_removal lb_removal(lb_slots& slots) { return {&count_removed, &slots}; }

// A port such an address does not serve is refused, as kube-proxy does,
// rather than left to fall through.
bool lb_service_address(const lb_lcore& s, const flow_key& k) {
  if (!s.services) return false;
  frontend_key fk{};
  std::memcpy(fk.addr, k.dst, 16);
  fk.family = k.family;
  const frontend_slot* f = directory_lookup(*s.services, *s.index, fk).frontend;
  return f && f->kind == frontend_kind::service_address;
}

bool lb_policy_routed(const lb_lcore& s, const uint8_t* frame, uint16_t in_port, const flow_key& k) {
  return s.policy && s.pods && s.nexthops && in_port < max_ports &&
         std::memcmp(frame, s.nexthops->port_mac[in_port], 6) == 0 && pod_route_lookup(*s.pods, k.family, k.dst);
}

void lb_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, lb_lcore& s, conntrack_lcore& ct,
              lcore_counters& c) {
  lb_burst_ctx x(pkts, meta, s, ct, c);
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!pending_ip(m)) continue;
    const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    // A packet that may belong to a flow waiting for its verdict waits for
    // that verdict first, as it would have one packet at a time.
    // (An ICMP error belongs to the connection it quotes, which the filter
    // does not cover: it always waits.)
    if (m.conn == conn_none && x.batch.n &&
        ((is_icmp(m.l4_proto) && !is_icmp_echo(m)) || x.batch.may_follow(m.hash, m.key.src)))
      settle(x);
    if (x.opened.any) look_again(frame, m, x.opened, ct, x.gone, c);
    if (m.conn != conn_none) {
      if (s.policy && stale(s, ct.table->at(m.conn))) {
        const conn& cn = ct.table->at(m.conn);
        awaiting& a = gather(x, i, policy_flow_of(cn.key[0], cn.key[1]));
        a.kind = awaiting::recheck;
        a.conn = m.conn;
      }
      continue;
    }
    if (!may_open(m)) {
      // A ping to a Pod is a flow too: its reply is its reversed key.
      if (echo_request(m) && routed_to_pod(s, frame, m)) gather_routed(x, i);
      continue;
    }
    frontend_hit fh = s.services ? directory_lookup(*s.services, *s.index, frontend_of(m.key)) : frontend_hit{};
    // loadBalancerSourceRanges, before any work is spent on the flow.
    if (fh.frontend && fh.frontend->kind == frontend_kind::load_balancer &&
        !source_allowed(*fh.record, m.key.family, m.key.src)) {
      count_drop(m, drop_reason::lb_source_range, c);
      continue;
    }
    // A client-IP-preserving Service's endpoint is in the directory (for
    // the hand-off of its replies), but a flow straight to it is routed pod
    // traffic like any other, and classified.
    const bool to_service = fh.frontend && fh.frontend->kind != frontend_kind::local_backend;
    const bool routed = !to_service && routed_to_pod(s, frame, m);
    if (steering_on(s) && !s.from_handoff && (s.services || routed)) {
      int owner = routed      ? routed_owner(*s.steering, s.worker, m.key, s.services, s.index)
                  : s.services ? steering_owner(*s.steering, s.worker, *s.services, *s.index, m.key, fh)
                               : -1;
      if (owner >= 0) {
        m.v = verdict::handoff;
        m.out_port = static_cast<uint16_t>(owner);
        c.lb.handoff_out++;
        continue;
      }
    }
    if (!fh.frontend && lb_service_address(s, m.key)) {
      if (refuse(pkts[i], m, s, ct.now_ns, c)) c.lb.refused_port++;
      continue;
    }
    if (routed) {
      gather_routed(x, i);
      continue;
    }
    if (!fh.frontend || !is_frontend(fh.frontend->kind)) continue;
    int e = choose_endpoint(pkts[i], m, fh, s, ct, c);
    if (e < 0) continue;
    if (!s.policy) lb_reload_policy(s);  // the record may be newer than the burst's rules
    if (!s.policy) {
      open_connection(m, fh, e, s, ct, x.opened, x.gone, c);
      continue;
    }
    const lb_group& g = fh.record->groups()[fh.frontend->group];
    const backend_entry& be = fh.record->backends()[g.first_backend + e];
    awaiting& a = gather(x, i, flow_to(m.key, be.addr, be.port));
    a.kind = awaiting::service;
    a.fh = fh;
    a.endpoint = e;
  }
  if (x.batch.n) settle(x);
}

}  // namespace kgw
