#include "dataplane/neighbor/neighbor_service.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>

#include <fmt/format.h>

#include "dataplane/log.h"
#include "dataplane/worker.h"
#include "pipelines/neighbor/neighbor_packets.h"

namespace kgw {

namespace {

constexpr unsigned event_ring_size = 4096;
constexpr unsigned inject_ring_size = 1024;
constexpr uint64_t tick_ns = 1'000'000;     // timers looked at every millisecond
constexpr uint64_t publish_ns = 1'000'000;  // at most a table a millisecond

neighbor_timers timers_of(const neighbor_resolution_config& r) {
  neighbor_timers t;
  t.reachable_ns = uint64_t{r.reachable_ms} * 1'000'000;
  t.retrans_ns = uint64_t{r.retrans_ms} * 1'000'000;
  t.delay_ns = uint64_t{r.delay_ms} * 1'000'000;
  t.probes = r.probes;
  t.queue = r.queue_packets;
  t.gc_ns = uint64_t{r.gc_ms} * 1'000'000;
  return t;
}

}  // namespace

bool neighbor_service::start(const gateway_config& cfg, const std::vector<uint16_t>& port_ids, shared_state& st,
                             rte_mempool* pool, unsigned n_workers, uint64_t now_ns, std::string& error) {
  machine_.configure(timers_of(cfg.neighbor_resolution));
  st_ = &st;
  c_ = &st.main_counters;
  pool_ = pool;
  node_addresses_ = cfg.node_addresses;
  template_ = std::make_unique<nexthop_table>();
  nexthop_table& t = *template_;
  auto port_id_of = [&](const std::string& name) -> uint16_t {
    for (size_t i = 0; i < cfg.ports.size(); ++i)
      if (cfg.ports[i].name == name) return port_ids[i];
    return 0;  // the config checked every name
  };
  auto add_route = [&](const ip_prefix& p, const ip_addr* via, uint16_t port) {
    route_entry& e = t.routes[t.n_routes++];  // the config checked the room
    e.family = p.addr.family;
    e.len = p.len;
    e.onlink = via ? 0 : 1;
    std::memcpy(e.prefix, p.addr.b.data(), 16);
    if (via) std::memcpy(e.via, via->b.data(), 16);
    e.port = port;
  };
  for (const route_config& r : cfg.routes) add_route(r.prefix, &r.via, port_id_of(r.port));
  for (size_t i = 0; i < cfg.ports.size(); ++i)
    for (const ip_prefix& p : cfg.ports[i].networks) add_route(p, nullptr, port_ids[i]);
  for (uint16_t pid : port_ids) std::memcpy(t.port_mac[pid], st.ports[pid].mac, 6);
  for (const neighbor_config& n : cfg.neighbors)
    machine_.add_static(n.ip.family, n.ip.b.data(), n.mac.b.data(), port_id_of(n.port), now_ns);

  used_ = static_cast<uint32_t*>(rte_zmalloc("kgw_neighbor_used", sizeof(uint32_t) * max_neighbors, 64));
  events_ = rte_ring_create_elem("kgw_nb_events", sizeof(neighbor_event), event_ring_size, SOCKET_ID_ANY,
                                 RING_F_SC_DEQ);
  if (!used_ || !events_) {
    error = fmt::format("cannot create the neighbour resolver's ring: {}", rte_strerror(rte_errno));
    return false;
  }
  machine_.set_activity(used_);
  for (unsigned i = 0; i < n_workers; ++i) {
    auto name = fmt::format("kgw_nb_tx_{}", i);
    rte_ring* r = rte_ring_create(name.c_str(), inject_ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) {
      error = fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno));
      return false;
    }
    inject_.push_back(r);
  }
  int ts = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
  ts_flag_ = ts >= 0 ? 1ull << ts : 0;
  publish(now_ns);
  if (!st.nexthops) {
    error = "cannot allocate the next-hop table";
    return false;
  }
  size_t networks = 0;
  for (const port_config& p : cfg.ports) networks += p.networks.size();
  log_info("neighbours: {} static, {} on-link networks, {} routes; unknown next hops resolved by ARP/ND "
           "(reachable {} ms, {} probes {} ms apart, {} packets held each)",
           cfg.neighbors.size(), networks, cfg.routes.size(), cfg.neighbor_resolution.reachable_ms,
           cfg.neighbor_resolution.probes, cfg.neighbor_resolution.retrans_ms, cfg.neighbor_resolution.queue_packets);
  return true;
}

void neighbor_service::attach(worker_conf& w) {
  w.neighbor.resolver = events_;
  w.neighbor.used = used_;
  w.neighbor.worker = static_cast<uint16_t>(w.index);
  w.inject = w.index < inject_.size() ? inject_[w.index] : nullptr;
  w.nexthops_slot = &st_->nexthops;
  w.nexthops = st_->nexthops;
}

bool neighbor_service::on_link(uint8_t family, const uint8_t* ip, uint16_t port) const {
  const nexthop_table& t = *template_;
  for (uint32_t i = 0; i < t.n_routes; ++i) {
    const route_entry& r = t.routes[i];
    if (r.family != family || r.port != port) continue;
    if (r.onlink ? route_covers(r, ip) : std::memcmp(r.via, ip, family == 4 ? 4 : 16) == 0) return true;
  }
  return false;
}

const uint8_t* neighbor_service::source_for(uint8_t family, const uint8_t* target, uint16_t port) const {
  const ip_addr* any = nullptr;
  const nexthop_table& t = *template_;
  ip_addr tgt = ip_from_bytes(family, target);
  for (const ip_addr& a : node_addresses_) {
    if (a.family != family) continue;
    if (!any) any = &a;
    for (uint32_t i = 0; i < t.n_routes; ++i) {
      const route_entry& r = t.routes[i];
      if (!r.onlink || r.port != port || r.family != family) continue;
      ip_prefix p;
      p.addr = ip_from_bytes(family, r.prefix);
      p.len = r.len;
      if (in_prefix(p, a) && in_prefix(p, tgt)) return a.b.data();
    }
  }
  return any ? any->b.data() : nullptr;
}

void neighbor_service::drop(rte_mbuf* m, drop_reason why) {
  c_->drops[static_cast<unsigned>(why)]++;
  rte_pktmbuf_free(m);
}

void neighbor_service::send(rte_mbuf* m, uint16_t port, uint16_t worker) {
  if (!inject(m, port, worker)) drop(m, drop_reason::tx_ring_full);
}

bool neighbor_service::inject(rte_mbuf* m, uint16_t port, uint16_t worker) {
  m->port = port;  // the inject ring's convention: the port to send on
  rte_ring* r = worker < inject_.size() ? inject_[worker] : nullptr;
  return r && rte_ring_sp_enqueue(r, m) == 0;
}

void neighbor_service::send_by(rte_mbuf* m, uint32_t slot, uint16_t worker) {
  const neighbor_entry& e = machine_.entries()[slot];
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  std::memcpy(frame, e.mac, 6);
  std::memcpy(frame + 6, template_->port_mac[e.port < max_ports ? e.port : 0], 6);
  // It leaves now: in a replay its time is the answer's, not its arrival's.
  m->ol_flags &= ~ts_flag_;
  c_->neighbor.released++;
  send(m, e.port, worker);
}

void neighbor_service::solicit(const neighbor_machine::solicit& s) {
  const neighbor_entry& e = machine_.entries()[s.slot];
  const uint8_t* src = source_for(e.family, e.ip, e.port);
  if (!src || !pool_) return;  // no address of the family to ask from
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) return;
  const uint8_t* our_mac = template_->port_mac[e.port < max_ports ? e.port : 0];
  const uint8_t* dst_mac = s.unicast ? e.mac : nullptr;
  unsigned len = e.family == 4 ? arp_request_len : neighbor_solicit_len;
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  if (!frame) {
    rte_pktmbuf_free(m);
    return;
  }
  if (e.family == 4) build_arp_request(frame, our_mac, src, e.ip, dst_mac);
  else build_neighbor_solicit(frame, our_mac, src, e.ip, dst_mac);
  c_->neighbor.solicits++;
  send(m, e.port, 0);
}

void neighbor_service::handle(const neighbor_event& e, uint64_t now) {
  if (e.kind == neighbor_event_kind::miss) {
    uint32_t slot = 0;
    switch (machine_.miss(now, e.family, e.ip, e.port, {e.pkt, e.worker}, slot)) {
      case neighbor_machine::miss_result::queued:
        c_->neighbor.queued++;
        break;
      case neighbor_machine::miss_result::send_now:
        send_by(e.pkt, slot, e.worker);
        break;
      case neighbor_machine::miss_result::failed:
        c_->neighbor.failed++;
        drop(e.pkt, drop_reason::neighbor_failed);
        break;
      case neighbor_machine::miss_result::queue_full:
      case neighbor_machine::miss_result::table_full:
        drop(e.pkt, drop_reason::neighbor_queue_full);
        break;
    }
    return;
  }
  neighbor_machine::heard h;
  h.family = e.family;
  h.ip = e.ip;
  h.port = e.port;
  h.mac = e.kind != neighbor_event_kind::na || (e.flags & nbf_has_mac) ? e.mac : nullptr;
  switch (e.kind) {
    case neighbor_event_kind::arp:
      h.solicited = (e.flags & nbf_reply) && (e.flags & nbf_to_us);
      h.may_create = (e.flags & nbf_to_us) && !(e.flags & nbf_reply) && on_link(e.family, e.ip, e.port);
      break;
    case neighbor_event_kind::ns:
      h.may_create = (e.flags & nbf_to_us) && on_link(e.family, e.ip, e.port);
      break;
    case neighbor_event_kind::na:
      h.solicited = e.flags & nbf_solicited;
      h.override = e.flags & nbf_override;
      break;
    case neighbor_event_kind::miss:
      break;
  }
  machine_.hear(now, h);
}

void neighbor_service::carry_out() {
  for (const auto& s : machine_.solicits) solicit(s);
  machine_.solicits.clear();
  for (const auto& r : machine_.releases) send_by(static_cast<rte_mbuf*>(r.p.pkt), r.slot, r.p.worker);
  machine_.releases.clear();
  for (const held_packet& p : machine_.failed) {
    c_->neighbor.failed++;
    drop(static_cast<rte_mbuf*>(p.pkt), drop_reason::neighbor_failed);
  }
  machine_.failed.clear();
  c_->neighbor.learned = machine_.learned();
  c_->neighbor.mac_changes = machine_.mac_changes();
  if (machine_.take_changed()) dirty_ = true;
}

void neighbor_service::poll(uint64_t now) {
  if (!events_) return;
  neighbor_event ev[32];
  for (unsigned round = 0; round < 16; ++round) {
    unsigned n = rte_ring_sc_dequeue_burst_elem(events_, ev, sizeof ev[0], 32, nullptr);
    for (unsigned i = 0; i < n; ++i) handle(ev[i], now);
    carry_out();
    if (n < 32) break;
  }
  if (now >= next_tick_) {
    machine_.tick(now);
    carry_out();
    next_tick_ = now + tick_ns;
  }
  if (dirty_ && rcu_ && now >= next_publish_) publish(now);
  reclaim(false);
}

uint32_t neighbor_service::clear(uint64_t now) {
  uint32_t n = machine_.clear(now);
  carry_out();
  if (rcu_) publish(now);
  log_info("neighbours: {} learnt entries cleared", n);
  return n;
}

void neighbor_service::publish(uint64_t now) {
  auto* t = static_cast<nexthop_table*>(rte_malloc("kgw_nexthops", sizeof(nexthop_table), 64));
  if (!t) {
    log_warn("neighbours: no memory for a new next-hop table; the workers keep the one they have");
    return;
  }
  // Routes and port MACs from the template, the neighbours as they are now.
  std::memcpy(static_cast<void*>(t), template_.get(), sizeof(nexthop_table));
  t->n_neighbors = machine_.n_slots();
  std::memcpy(t->neighbors, machine_.entries(), sizeof(neighbor_entry) * t->n_neighbors);
  nexthop_reindex(*t);
  t->generation = ++generation_;
  const nexthop_table* old = st_->nexthops;
  __atomic_store_n(&st_->nexthops, t, __ATOMIC_RELEASE);
  if (old) retired_.push_back({const_cast<nexthop_table*>(old), rcu_ ? rte_rcu_qsbr_start(rcu_) : 0});
  dirty_ = false;
  next_publish_ = now + publish_ns;
}

void neighbor_service::reclaim(bool all) {
  for (size_t i = 0; i < retired_.size();) {
    if (all || (rcu_ && rte_rcu_qsbr_check(rcu_, retired_[i].token, false) == 1)) {
      retired_[i].t->generation = 0;  // a CLI copying it sees it went
      rte_free(retired_[i].t);
      retired_[i] = retired_.back();
      retired_.pop_back();
    } else {
      ++i;
    }
  }
}

void neighbor_service::release() {
  if (events_) {
    neighbor_event e;
    while (rte_ring_dequeue_elem(events_, &e, sizeof e) == 0)
      if (e.pkt) rte_pktmbuf_free(e.pkt);
    rte_ring_free(events_);
    events_ = nullptr;
  }
  machine_.clear(0);
  for (const held_packet& p : machine_.failed) rte_pktmbuf_free(static_cast<rte_mbuf*>(p.pkt));
  machine_.failed.clear();
  for (rte_ring* r : inject_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  inject_.clear();
  reclaim(true);
  if (st_ && st_->nexthops) {
    rte_free(const_cast<nexthop_table*>(st_->nexthops));
    st_->nexthops = nullptr;
  }
  st_ = nullptr;
  if (used_) rte_free(used_);
  used_ = nullptr;
}

}  // namespace kgw
