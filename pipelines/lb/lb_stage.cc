#include "pipelines/common/counted_drop.h"
#include "pipelines/lb/lb_stage.h"

#include <rte_mbuf.h>

#include <cstring>
#include <initializer_list>

#include "pipelines/common/packet_keys.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/refusal.h"
#include "pipelines/common/sctp.h"
#include "pipelines/lb/endpoint_pick.h"

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

// NetworkPolicy over the new flow: from the client as it arrived (before any
// SNAT) to the endpoint Pod on its port. One classification per new flow;
// the connection it opens is never classified again.
bool policy_allows(const policy_classifier& p, const flow_key& k, const backend_entry& be, lcore_counters& c) {
  policy_flow f;
  f.family = k.family;
  f.proto = k.proto;
  f.dport = static_cast<uint16_t>((be.port >> 8) | (be.port << 8));
  std::memcpy(f.src, k.src, 16);
  std::memcpy(f.dst, be.addr, 16);
  policy_verdict v;
  p.classify(&f, 1, &v);
  ++(v.allow ? c.policy.allowed : c.policy.denied);
  return v.allow;
}

void open_connection(rte_mbuf* mb, pkt_meta& m, const frontend_hit& fh, lb_lcore& s, conntrack_lcore& ct,
                     opened_keys& opened, const conn_removal& gone, lcore_counters& c) {
  const lb_group& g = fh.record->groups()[fh.frontend->group];
  bool full_nat = !keeps_client(g.full_nat, fh.frontend->kind) || from_cluster(*s.services, m.key.family, m.key.src);
  int e = pick_endpoint(g, fh, m.key, m.hash, s.affinity, ct.now_ns, c.lb);
  if (e < 0) {
    if (refuse(mb, m, s, ct.now_ns, c)) c.lb.rejected++;
    return;
  }
  const backend_entry& be = fh.record->backends()[g.first_backend + e];
  if (s.policy && !policy_allows(*s.policy, m.key, be, c)) {
    count_drop(m, drop_reason::policy_denied, c);
    return;
  }
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
  uint32_t id = conntrack_insert(m, reply, reply_hash, ct, gone);
  if (id == conn_none) {
    count_drop(m, drop_reason::conntrack_full, c);
    return;
  }
  opened.add(m.hash);
  opened.add(reply_hash);
  conn& cn = ct.table->at(id);
  // Counter slots, not table positions: they stay the same under later records.
  cn.service = g.counter;
  cn.backend = be.counter;
  cn.nat_port = nat_port;
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

frontend_key frontend_of(const flow_key& k) {
  frontend_key fk{};
  std::memcpy(fk.addr, k.dst, 16);
  fk.port = k.dport;
  fk.proto = k.proto;
  fk.family = k.family;
  return fk;
}

// Whether the destination is a Service's own address (a cluster, external or
// load-balancer IP): a port it does not serve is then refused, as kube-proxy
// does, rather than left to fall through.
bool serves_address(const lb_lcore& s, const flow_key& k) {
  frontend_key fk{};
  std::memcpy(fk.addr, k.dst, 16);
  fk.family = k.family;
  const frontend_slot* f = directory_lookup(*s.services, *s.index, fk).frontend;
  return f && f->kind == frontend_kind::service_address;
}

// A miss that may open a connection: TCP, UDP or SCTP with ports (later
// fragments carry none; without reassembly they stay unclaimed, counted as
// such; parse drops SCTP in fragments).
bool may_open(const pkt_meta& m) { return has_ports(m.l4_proto) && (!m.frag || (m.frag & frag_first)); }

}  // namespace

conn_removal lb_removal(lb_slots& slots) { return {&count_removed, &slots}; }

void lb_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, lb_lcore& s, conntrack_lcore& ct,
              lcore_counters& c) {
  const conn_removal gone = lb_removal(s.counters);
  opened_keys opened;
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (!pending_ip(m)) continue;
    if (opened.any) look_again(rte_pktmbuf_mtod(pkts[i], const uint8_t*), m, opened, ct, gone, c);
    if (m.conn != conn_none || !s.services || !may_open(m)) continue;
    frontend_hit fh = directory_lookup(*s.services, *s.index, frontend_of(m.key));
    // loadBalancerSourceRanges, before any work is spent on the flow.
    if (fh.frontend && fh.frontend->kind == frontend_kind::load_balancer &&
        !source_allowed(*fh.record, m.key.family, m.key.src)) {
      count_drop(m, drop_reason::lb_source_range, c);
      continue;
    }
    if (steering_on(s) && !s.from_handoff) {
      if (int owner = steering_owner(*s.steering, s.worker, *s.services, *s.index, m.key, fh); owner >= 0) {
        m.v = verdict::handoff;
        m.out_port = static_cast<uint16_t>(owner);
        c.lb.handoff_out++;
        continue;
      }
    }
    if (!fh.frontend) {
      if (serves_address(s, m.key) && refuse(pkts[i], m, s, ct.now_ns, c)) c.lb.refused_port++;
      continue;
    }
    if (!is_frontend(fh.frontend->kind)) continue;
    open_connection(pkts[i], m, fh, s, ct, opened, gone, c);
  }
}

}  // namespace kgw
