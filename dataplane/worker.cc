#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <cstring>
#include <iterator>

#include "dataplane/worker_tcp.h"
#include "pipelines/l7/echo/echo.h"
#include "pipelines/local/local.h"
#include "pipelines/parse/parse.h"
#include "pipelines/route/route_stage.h"

namespace kgw {

namespace {

// Not inlined: perf/instructions leaves the driver's TX out of the pipeline's
// instruction count by toggling callgrind's collection off inside it.
__attribute__((noinline)) void kgw_tx_burst(worker_conf& w, uint16_t port) {
  tx_buffer& b = w.tx[port];
  if (b.n == 0) return;
  uint16_t sent = rte_eth_tx_burst(port, w.txq, b.pkts, b.n);
  // One retry absorbs a momentarily full ring without stalling the loop.
  if (sent < b.n) sent += rte_eth_tx_burst(port, w.txq, b.pkts + sent, b.n - sent);
  auto& pc = w.counters->port[port];
  for (uint16_t i = 0; i < sent; ++i) pc.tx_bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
  pc.tx_pkts += sent;
  w.counters->tx_pkts += sent;
  if (sent < b.n) {
    uint16_t lost = b.n - sent;
    pc.tx_dropped += lost;
    w.counters->drops[static_cast<unsigned>(drop_reason::tx_ring_full)] += lost;
    rte_pktmbuf_free_bulk(b.pkts + sent, lost);
  }
  b.n = 0;
}

void enqueue_tx(worker_conf& w, uint16_t port, rte_mbuf* m) {
  tx_buffer& b = w.tx[port];
  b.pkts[b.n++] = m;
  if (b.n == max_burst) kgw_tx_burst(w, port);
}

void dispatch(worker_conf& w, rte_mbuf** pkts, const pkt_meta* meta, uint16_t n) {
  rte_mbuf* to_free[max_burst];
  uint16_t n_free = 0;
  rte_mbuf* to_tcp[max_burst];
  alignas(pkt_meta) unsigned char tcp_meta_storage[sizeof(pkt_meta) * max_burst];
  auto* tcp_meta = reinterpret_cast<pkt_meta*>(tcp_meta_storage);
  uint16_t n_tcp = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const pkt_meta& m = meta[i];
    switch (m.v) {
      case verdict::tcp:
        if (w.tcp && w.tcp->stack) {
          to_tcp[n_tcp] = pkts[i];
          std::memcpy(static_cast<void*>(&tcp_meta[n_tcp]), &m, sizeof m);
          n_tcp++;
          continue;
        }
        w.counters->drops[static_cast<unsigned>(drop_reason::not_for_gateway)]++;
        break;
      case verdict::tx:
        if (m.out_port < w.n_ports) {
          enqueue_tx(w, m.out_port, pkts[i]);
          continue;
        }
        w.counters->drops[static_cast<unsigned>(drop_reason::not_for_gateway)]++;
        break;
      case verdict::punt:
        if (w.punt && rte_ring_sp_enqueue(w.punt, pkts[i]) == 0) {
          w.counters->punted++;
          continue;
        }
        w.counters->drops[static_cast<unsigned>(drop_reason::punt_ring_full)]++;
        break;
      case verdict::handoff:
        if (m.out_port < max_workers && w.handoff_to[m.out_port] &&
            rte_ring_mp_enqueue(w.handoff_to[m.out_port], pkts[i]) == 0)
          continue;
        w.counters->drops[static_cast<unsigned>(drop_reason::handoff_ring_full)]++;
        break;
      case verdict::pending:
        w.counters->drops[static_cast<unsigned>(drop_reason::not_for_gateway)]++;
        break;
      case verdict::drop:
        break;  // counted by the stage that dropped it
    }
    to_free[n_free++] = pkts[i];
  }
  if (n_free) rte_pktmbuf_free_bulk(to_free, n_free);
  // The stack's clock first: ISNs, timestamps and RTT samples of these
  // segments are taken at this burst's time, not the previous loop's (in a
  // replay, the capture's time of the burst). The stack keeps or frees each.
  if (n_tcp) {
    tcp::tcp_advance(*w.tcp->stack, w.now_ns);
    tcp::tcp_input(*w.tcp->stack, to_tcp, tcp_meta, n_tcp);
  }
}

// A chain the port cannot send as such, copied into its first buffer (the
// stack's segments are a header buffer and a payload of at most one MSS, which
// fits a buffer of the default data room). false: it cannot be.
bool linearize(worker_conf& w, rte_mbuf* m) {
  if (m->nb_segs == 1) return true;
  if (rte_pktmbuf_linearize(m) != 0) return false;
  w.counters->tcp.linearized++;
  return true;
}

void tcp_on_event(worker_conf& w, const tcp::tcp_event& ev) {
  tcp::tcp_stack& s = *w.tcp->stack;
  if (ev.kinds & tcp::ev_accepted) {
    const auto& apps = w.tcp->listener_app;
    tcp_app app = ev.listener < std::size(apps) ? apps[ev.listener] : tcp_app::none;
    tcp::tcp_set_tag(s, ev.conn, static_cast<uint32_t>(app));
  }
  switch (static_cast<tcp_app>(tcp::tcp_tag(s, ev.conn))) {
    case tcp_app::echo:
      echo_on_event(s, ev, w.counters->tcp);
      return;
    case tcp_app::http:
    case tcp_app::http_backend:
      if (w.tcp->proxy) {
        proxy::proxy_on_event(*w.tcp->proxy, ev, tcp::tcp_tag(s, ev.conn));
        return;
      }
      break;
    case tcp_app::none:
      break;
  }
  // Nothing serves it (a listener without a service cannot exist; kept safe).
  tcp::tcp_abort(s, ev.conn);
}

// The stack's share of a poll loop: timers, the services' events (bounded,
// so that a burst of events cannot stall RX), then every segment it has to
// send, routed by destination into the TX buffers.
void tcp_service(worker_conf& w) {
  tcp::tcp_stack& s = *w.tcp->stack;
  tcp::tcp_advance(s, w.now_ns);
  // The routes and Service records of this loop; the quiescent point after
  // it lets the main lcore free what they replace.
  if (w.tcp->proxy)
    proxy::proxy_refresh(*w.tcp->proxy, w.tcp->ingress ? __atomic_load_n(w.tcp->ingress, __ATOMIC_ACQUIRE) : nullptr,
                         w.services ? __atomic_load_n(w.services, __ATOMIC_ACQUIRE) : nullptr);
  tcp::tcp_event ev[max_burst];
  for (unsigned round = 0; round < 8; ++round) {
    uint16_t n = tcp::tcp_poll_events(s, ev, max_burst);
    for (uint16_t i = 0; i < n; ++i) tcp_on_event(w, ev[i]);
    if (n < max_burst) break;
  }
  for (;;) {
    rte_mbuf* pkts[max_burst];
    alignas(pkt_meta) unsigned char meta_storage[sizeof(pkt_meta) * max_burst];
    auto* meta = reinterpret_cast<pkt_meta*>(meta_storage);
    uint16_t n = tcp::tcp_drain_tx(s, pkts, meta, max_burst);
    if (n == 0) break;
    route_originated_burst(pkts, meta, n, w.nexthops, w.tcp->routes, w.counters->tcp.no_route, *w.counters);
    for (uint16_t i = 0; i < n; ++i) {
      const pkt_meta& m = meta[i];
      if (m.v == verdict::tx && m.out_port < w.n_ports &&
          (!w.tx_linearize[m.out_port] || linearize(w, pkts[i]))) {
        enqueue_tx(w, m.out_port, pkts[i]);
        continue;
      }
      if (m.v == verdict::tx)
        w.counters->drops[static_cast<unsigned>(drop_reason::multiseg_unsupported)]++;
      rte_pktmbuf_free(pkts[i]);
    }
    if (n < max_burst) break;
  }
}

void update_clock(worker_conf& w, uint16_t port, rte_mbuf* first) {
  if (w.timestamp_offset >= 0)
    w.now_ns = w.rx_clock[port].to_ns(*RTE_MBUF_DYNFIELD(first, w.timestamp_offset, const uint64_t*));
  else
    w.now_ns = w.tsc_clock.to_ns(rte_get_tsc_cycles());
}

}  // namespace

// The stage order lives here and only here: each stage reads what the ones
// before it left in pkt_meta.
__attribute__((noinline)) void kgw_pipeline_burst(worker_conf& w, rte_mbuf** pkts, uint16_t n) {
  // Raw storage, not pkt_meta[]: parse_burst writes each packet's metadata
  // whole, so default-constructing 32 of them first would be paid for nothing.
  // (An array of unsigned char implicitly creates the aggregates in it.)
  alignas(pkt_meta) unsigned char meta_storage[sizeof(pkt_meta) * max_burst];
  auto* meta = reinterpret_cast<pkt_meta*>(meta_storage);
  lcore_counters& c = *w.counters;
  parse_burst(pkts, meta, n, c);
  // Services before local: NodePorts live on the gateway's own addresses.
  if (w.conntrack.table) {
    w.conntrack.now_ns = w.now_ns;
    if (w.services) {
      const service_directory* d = __atomic_load_n(w.services, __ATOMIC_ACQUIRE);
      lb_use_directory(w.lb, d);
      if (d && d->counters) {
        w.conntrack.endpoint_serving = d->counters->serving;
        w.conntrack.n_endpoint_slots = d->counters->n_slots;
      }
    }
    conntrack_burst(pkts, meta, n, w.conntrack, lb_removal(w.lb.counters), c);
    lb_burst(pkts, meta, n, w.lb, w.conntrack, c);
    nat_burst(pkts, meta, n, w.nat, *w.conntrack.table, c);
    route_burst(pkts, meta, n, w.nexthops, *w.conntrack.table, c);
  }
  w.local_state.now_ns = w.now_ns;
  local_burst(pkts, meta, n, *w.local, w.local_state, c);
  dispatch(w, pkts, meta, n);
}

// Packets other workers received for connections this one owns.
unsigned poll_handoff(worker_conf& w) {
  if (!w.handoff_in) return 0;
  rte_mbuf* pkts[max_burst];
  unsigned n = rte_ring_sc_dequeue_burst(w.handoff_in, reinterpret_cast<void**>(pkts), max_burst, nullptr);
  if (n == 0) return 0;
  w.counters->lb.handoff_in += n;
  w.lb.from_handoff = true;
  kgw_pipeline_burst(w, pkts, static_cast<uint16_t>(n));
  w.lb.from_handoff = false;
  return n;
}

unsigned worker_poll(worker_conf& w) {
  unsigned total = poll_handoff(w);
  for (uint16_t q = 0; q < w.n_rxq; ++q) {
    rte_mbuf* pkts[max_burst];
    uint16_t port = w.rxq[q].port;
    uint16_t n = rte_eth_rx_burst(port, w.rxq[q].queue, pkts, w.burst);
    if (n == 0) continue;
    auto& pc = w.counters->port[port];
    pc.rx_pkts += n;
    for (uint16_t i = 0; i < n; ++i) pc.rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    w.counters->rx_pkts += n;
    update_clock(w, port, pkts[0]);
    kgw_pipeline_burst(w, pkts, n);
    total += n;
  }
  if (w.tcp && w.tcp->stack) tcp_service(w);
  return total;
}

void worker_flush(worker_conf& w) {
  for (uint16_t p = 0; p < w.n_ports; ++p) kgw_tx_burst(w, p);
}

namespace {

static_assert(tcp::tcp_drop_count <= tcp_drop_slots);

void publish_tcp_counters(const tcp::tcp_stack& s, tcp_lcore_counters& t) {
  const tcp::tcp_counters& k = tcp::tcp_stack_counters(s);
  t.connections = tcp::tcp_connections(s);
  t.time_wait = tcp::tcp_time_wait_count(s);
  t.segments_in = k.segments_in;
  t.segments_out = k.segments_out;
  t.bytes_in = k.bytes_in;
  t.bytes_out = k.bytes_out;
  t.accepted = k.accepted;
  t.connected = k.connected;
  t.active_opens = k.active_opens;
  t.retransmitted_segments = k.retransmitted_segments;
  t.rto_expired = k.rto_expired;
  t.persist_probes = k.persist_probes;
  t.resets_sent = k.resets_sent;
  t.resets_received = k.resets_received;
  t.cookies_sent = k.cookies_sent;
  t.cookies_accepted = k.cookies_accepted;
  t.timeouts = k.timeouts;
  std::memcpy(t.drops, k.drops, sizeof k.drops);
}

// A bounded slice of a requested table copy per loop: a snapshot of a million
// connections costs the worker about a millisecond, spread over many loops.
void serve_conn_snapshot(worker_conf& w, const conn_table& ct) {
  conn_snapshot_request& r = *w.snapshot;
  uint32_t want = __atomic_load_n(&r.requested, __ATOMIC_ACQUIRE);
  if (want == r.done) return;
  auto* out = static_cast<conn*>(r.entries);
  constexpr unsigned slots_per_loop = 1024;
  for (unsigned k = 0; k < slots_per_loop && r.cursor < ct.capacity() && r.filled < r.capacity; ++k, ++r.cursor)
    if (ct.at(r.cursor).state != conn_state::free) out[r.filled++] = ct.at(r.cursor);
  if (r.cursor < ct.capacity() && r.filled < r.capacity) return;
  r.active = ct.active();
  r.now_ns = w.now_ns;
  __atomic_store_n(&r.done, want, __ATOMIC_RELEASE);
}

}  // namespace

void worker_housekeeping(worker_conf& w) {
  // Nothing of a Service record is held across loops: this is a quiescent point.
  if (w.rcu) rte_rcu_qsbr_quiescent(w.rcu, w.index);
  if (w.tcp && w.tcp->stack) publish_tcp_counters(*w.tcp->stack, w.counters->tcp);
  conn_table* ct = w.conntrack.table;
  if (!ct) return;
  // A few buckets per loop: expiry costs a little, always, never a pause.
  ct->expire_step(w.now_ns, 8, lb_removal(w.lb.counters));
  const conn_counters& k = ct->counters();
  conntrack_stage_counters& c = w.counters->conntrack;
  c.hits = k.hits;
  c.misses = k.misses;
  c.inserts = k.inserts;
  c.evictions = k.evictions;
  c.expired = k.expired;
  c.table_full = k.table_full;
  c.active = ct->active();
  c.evicted_established = k.evicted_established;
  c.embryonic = ct->embryonic_count();
  c.assured = k.assured;
  if (w.snapshot) serve_conn_snapshot(w, *ct);
}

int worker_main(void* arg) {
  auto& w = *static_cast<worker_conf*>(arg);
  lcore_counters& c = *w.counters;
  while (!*w.stop) {
    uint64_t t0 = rte_rdtsc();
    unsigned n = worker_poll(w);
    worker_flush(w);
    if (w.timestamp_offset < 0 && n == 0) update_clock(w, 0, nullptr);
    worker_housekeeping(w);
    c.loops++;
    if (n) {
      c.busy_loops++;
      c.busy_cycles += rte_rdtsc() - t0;
    }
  }
  worker_flush(w);
  return 0;
}

}  // namespace kgw
