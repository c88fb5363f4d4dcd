#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "dataplane/worker_tcp.h"
#include "pipelines/conntrack/fragment_stage.h"
#include "pipelines/dns/dns_tcp_punt.h"
#include "pipelines/l7/echo/echo.h"
#include "pipelines/l7/tls/tls_echo.h"
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
  auto& pc = w.counters->port[port];
  uint16_t sent = rte_eth_tx_burst(port, w.txq, b.pkts, b.n);
  pc.tx_bursts++;
  // One retry absorbs a momentarily full ring without stalling the loop.
  if (sent < b.n) {
    sent += rte_eth_tx_burst(port, w.txq, b.pkts + sent, b.n - sent);
    pc.tx_bursts++;
  }
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
      case verdict::exception:
        // The main lcore writes it to the kernel: a TAP's TX is a syscall.
        if (w.exception && rte_ring_sp_enqueue(w.exception, pkts[i]) == 0) continue;
        w.counters->drops[static_cast<unsigned>(drop_reason::exception_ring_full)]++;
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
      case verdict::consumed:
        continue;  // the stage's now
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

// --- the `tcp connect` diagnostic (tcp_probe_request) ---------------------------
// One active open at a time per worker, asked for by a CLI through shared
// memory: send the requester's bytes as send space allows, copy what comes back
// into its buffer, end at the peer's FIN, a reset or the deadline.

void probe_finish(worker_conf& w, tcp_probe_status status) {
  worker_tcp& t = *w.tcp;
  tcp_probe_run& p = t.probe;
  tcp_probe_request& r = *w.tcp_probe;
  if (p.conn.valid()) {
    tcp::tcp_conn_info info;
    bool orderly = tcp::tcp_info(*t.stack, p.conn, info) && info.recv_queued == 0 && status == probe_closed;
    (orderly ? tcp::tcp_close : tcp::tcp_abort)(*t.stack, p.conn);
  }
  r.status = status;
  r.total_ns = w.now_ns - p.start_ns;
  p = tcp_probe_run{};
  __atomic_store_n(&r.done, r.requested, __ATOMIC_RELEASE);
}

// Queues as much of the requester's data as the send buffer takes now, in
// mbufs from the worker's pool.
void probe_push(worker_conf& w) {
  worker_tcp& t = *w.tcp;
  tcp_probe_run& p = t.probe;
  tcp_probe_request& r = *w.tcp_probe;
  const auto* src = static_cast<const uint8_t*>(r.send);
  while (r.sent < r.send_len) {
    uint64_t want = std::min<uint64_t>({r.send_len - r.sent, tcp::tcp_send_space(*t.stack, p.conn), 65536});
    if (want == 0) break;
    rte_mbuf* head = nullptr;
    rte_mbuf* tail = nullptr;
    uint64_t filled = 0;
    while (filled < want) {
      rte_mbuf* m = rte_pktmbuf_alloc(t.pool);
      if (!m) break;
      uint16_t n = static_cast<uint16_t>(std::min<uint64_t>(want - filled, rte_pktmbuf_tailroom(m)));
      std::memcpy(rte_pktmbuf_append(m, n), src + r.sent + filled, n);
      filled += n;
      if (!head) {
        head = tail = m;
      } else {
        tail->next = m;
        tail = m;
        head->nb_segs++;
        head->pkt_len += n;
      }
    }
    if (!head) break;  // the pool is dry: try again at the next event
    if (tcp::tcp_send(*t.stack, p.conn, head) != 0) {
      rte_pktmbuf_free(head);
      break;
    }
    r.sent += filled;
  }
  if (r.sent == r.send_len && (r.flags & probe_shutdown) && !p.shut) {
    tcp::tcp_shutdown(*t.stack, p.conn);
    p.shut = true;
  }
}

void probe_pull(worker_conf& w) {
  worker_tcp& t = *w.tcp;
  tcp_probe_request& r = *w.tcp_probe;
  auto* dst = static_cast<uint8_t*>(r.recv);
  while (rte_mbuf* chain = tcp::tcp_recv(*t.stack, t.probe.conn)) {
    for (rte_mbuf* m = chain; m; m = m->next) {
      uint64_t n = rte_pktmbuf_data_len(m);
      uint64_t room = r.recv_cap - r.received;
      uint64_t take = std::min(n, room);
      if (take) std::memcpy(dst + r.received, rte_pktmbuf_mtod(m, const uint8_t*), take);
      r.received += take;
      r.discarded += n - take;
    }
    rte_pktmbuf_free(chain);
  }
}

void probe_on_event(worker_conf& w, const tcp::tcp_event& ev) {
  tcp_probe_run& p = w.tcp->probe;
  tcp_probe_request& r = *w.tcp_probe;
  if (!p.active || !(ev.conn == p.conn)) {
    tcp::tcp_abort(*w.tcp->stack, ev.conn);  // a probe given up on since
    return;
  }
  if (ev.kinds & tcp::ev_connected) {
    r.connected = 1;
    r.connect_ns = w.now_ns - p.start_ns;
  }
  if (ev.kinds & (tcp::ev_connected | tcp::ev_writable)) probe_push(w);
  if (ev.kinds & tcp::ev_readable) probe_pull(w);
  if (ev.kinds & tcp::ev_reset) return probe_finish(w, r.connected ? probe_reset : probe_refused);
  if (ev.kinds & tcp::ev_timeout) return probe_finish(w, probe_unreachable);
  if (ev.kinds & tcp::ev_peer_closed) p.peer_closed = true;
  // Done once the peer has said all and everything of ours is queued (and,
  // when asked, our FIN): closing lets the stack finish sending it.
  if (p.peer_closed && r.sent == r.send_len && (p.shut || !(r.flags & probe_shutdown)))
    probe_finish(w, probe_closed);
}

// Once per loop: starts a new request, or ends one past its deadline.
void serve_tcp_probe(worker_conf& w) {
  worker_tcp& t = *w.tcp;
  tcp_probe_run& p = t.probe;
  tcp_probe_request& r = *w.tcp_probe;
  uint32_t want = __atomic_load_n(&r.requested, __ATOMIC_ACQUIRE);
  if (p.active) {
    if (want != p.serving) {  // the requester gave up
      tcp::tcp_abort(*t.stack, p.conn);
      p = tcp_probe_run{};
    } else if (w.now_ns >= p.deadline_ns) {
      probe_pull(w);
      probe_finish(w, r.connected ? probe_timeout : probe_unreachable);
    }
    return;
  }
  if (want == r.done) return;
  p.serving = want;
  p.start_ns = w.now_ns;
  p.deadline_ns = w.now_ns + uint64_t{r.timeout_ms} * 1000000;
  r.sent = r.received = r.discarded = r.connect_ns = r.total_ns = 0;
  r.connected = r.steered = 0;
  r.local_port = 0;
  ip_addr remote;
  remote.family = r.family;
  std::memcpy(remote.b.data(), r.addr, 16);
  connect_result c = connect_from_snat(*t.stack, t.connect, remote, r.port, w.counters->tcp);
  if (!c.conn.valid()) {
    tcp_probe_status st = c.error == connect_error::no_source ? probe_no_source
                          : c.error == connect_error::no_route ? probe_no_route
                                                               : probe_no_port;
    r.status = st;
    __atomic_store_n(&r.done, want, __ATOMIC_RELEASE);
    p = tcp_probe_run{};
    return;
  }
  p.active = true;
  p.conn = c.conn;
  tcp::tcp_set_tag(*t.stack, c.conn, static_cast<uint32_t>(tcp_app::probe));
  r.local_port = c.port;
  r.steered = c.steered;
  const ip_addr& local = r.family == 4 ? t.connect.snat_v4 : t.connect.snat_v6;
  std::memcpy(r.local_addr, local.b.data(), 16);
}

void tcp_on_event(worker_conf& w, const tcp::tcp_event& ev) {
  tcp::tcp_stack& s = *w.tcp->stack;
  if (ev.kinds & tcp::ev_accepted) {
    const auto& apps = w.tcp->listener_app;
    tcp_app app = ev.listener < std::size(apps) ? apps[ev.listener] : tcp_app::none;
    tcp::tcp_set_tag(s, ev.conn, static_cast<uint32_t>(app));
  }
  switch (static_cast<tcp_app>(tcp::tcp_tag(s, ev.conn) & 0xff)) {
    case tcp_app::echo:
      echo_on_event(s, ev, w.counters->tcp);
      return;
    case tcp_app::dns:
      if (w.tcp->dns) {
        const dns::table* names = w.dns_names ? __atomic_load_n(w.dns_names, __ATOMIC_ACQUIRE) : nullptr;
        dns::tcp_on_event(*w.tcp->dns, ev, names, w.now_ns, *w.counters);
        return;
      }
      break;
    case tcp_app::probe:
      if (w.tcp_probe) probe_on_event(w, ev);
      else tcp::tcp_abort(s, ev.conn);
      return;
    case tcp_app::http:
    case tcp_app::http_backend:
      if (w.tcp->proxy) {
        proxy::proxy_on_event(*w.tcp->proxy, ev, tcp::tcp_tag(s, ev.conn));
        return;
      }
      break;
    case tcp_app::tls_echo:
    case tcp_app::https:
      // The TLS layer's: its own events for the service come from tls_poll_events.
      if (w.tcp->tls) {
        tls::tls_on_tcp_event(*w.tcp->tls, ev);
        return;
      }
      break;
    case tcp_app::none:
      break;
  }
  // Nothing serves it (a listener without a service cannot exist; kept safe).
  tcp::tcp_abort(s, ev.conn);
}

// An event of the TLS layer for the service on a TLS connection (by the
// connection's tag, as the stack's events).
void tls_app_on_event(worker_conf& w, const tcp::tcp_event& ev) {
  tls::tls_stream_worker& t = *w.tcp->tls;
  switch (static_cast<tcp_app>(tcp::tcp_tag(*w.tcp->stack, ev.conn))) {
    case tcp_app::tls_echo:
      tls::tls_echo_on_event(t, ev);
      return;
    case tcp_app::https:
      if (w.tcp->proxy) {
        proxy::proxy_on_event(*w.tcp->proxy, ev, proxy::tag_tls_client);
        return;
      }
      break;
    default:
      break;
  }
  tls::tls_abort(t, ev.conn);  // nothing serves it
}

// The stack's share of a poll loop: timers, the services' events (bounded,
// so that a burst of events cannot stall RX), then every segment it has to
// send, routed by destination into the TX buffers.
void tcp_service(worker_conf& w) {
  tcp::tcp_stack& s = *w.tcp->stack;
  tcp::tcp_advance(s, w.now_ns);
  if (w.tcp_probe) serve_tcp_probe(w);
  // The routes and Service records of this loop; the quiescent point after
  // it lets the main lcore free what they replace.
  if (w.tcp->proxy)
    proxy::proxy_refresh(*w.tcp->proxy, w.tcp->ingress ? __atomic_load_n(w.tcp->ingress, __ATOMIC_ACQUIRE) : nullptr,
                         w.services ? __atomic_load_n(w.services, __ATOMIC_ACQUIRE) : nullptr);
  // TLS: this loop's contexts and handshake budget, and the handshakes
  // earlier loops put off, before new ones.
  if (w.tcp->tls) tls::tls_refresh(*w.tcp->tls);
  // Raw storage: an array of tcp_event would run its constructors (32 of
  // them) in every loop, idle or not; the polls write what they hand out.
  alignas(tcp::tcp_event) unsigned char ev_storage[sizeof(tcp::tcp_event) * max_burst];
  auto* ev = reinterpret_cast<tcp::tcp_event*>(ev_storage);
  for (unsigned round = 0; round < 8; ++round) {
    uint16_t n = tcp::tcp_poll_events(s, ev, max_burst);
    for (uint16_t i = 0; i < n; ++i) tcp_on_event(w, ev[i]);
    if (n < max_burst) break;
  }
  if (w.tcp->tls) {
    for (unsigned round = 0; round < 8; ++round) {
      uint16_t n = tls::tls_poll_events(*w.tcp->tls, ev, max_burst);
      for (uint16_t i = 0; i < n; ++i) tls_app_on_event(w, ev[i]);
      if (n < max_burst) break;
    }
  }
  // The proxy's timeouts, after the events: what arrived while the worker
  // was held up counts before a deadline is judged.
  if (w.tcp->proxy) proxy::proxy_advance(*w.tcp->proxy, w.now_ns);
  if (w.tcp->dns) dns::tcp_sweep(*w.tcp->dns, w.now_ns, *w.counters);
  for (;;) {
    rte_mbuf* pkts[max_burst];
    alignas(pkt_meta) unsigned char meta_storage[sizeof(pkt_meta) * max_burst];
    auto* meta = reinterpret_cast<pkt_meta*>(meta_storage);
    uint16_t n = tcp::tcp_drain_tx(s, pkts, meta, max_burst);
    if (n == 0) break;
    w.neighbor.now_tick = neighbor_tick(w.now_ns);
    // Pod routes of this loop: an endpoint or client behind another Node is
    // reached through pod routing (a tunnel, or its Node), as for Services.
    w.pods.routes = w.pods.conf && w.pod_routes_slot ? __atomic_load_n(w.pod_routes_slot, __ATOMIC_ACQUIRE) : nullptr;
    route_originated_burst(pkts, meta, n, w.nexthops, w.tcp->routes, w.counters->tcp.no_route, w.neighbor,
                           *w.counters, w.pods.routes);
    if (w.pods.routes) {
      w.pods.now_ns = w.now_ns;
      pod_forward_originated(pkts, meta, n, w.pods, w.nexthops, w.neighbor, *w.counters);
    }
    for (uint16_t i = 0; i < n; ++i) {
      const pkt_meta& m = meta[i];
      if (m.v == verdict::consumed) continue;  // waits for its neighbour
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

// The held fragments whose first fragment came (pipelines/conntrack/frag_hold.h),
// through the pipeline again: now they find their datagram's entry.
void run_released(worker_conf& w) {
  w.frag_hold.releasing = true;
  rte_mbuf* pkts[max_burst];
  while (uint32_t n = w.frag_hold.hold->take_released(pkts, max_burst))
    kgw_pipeline_burst(w, pkts, static_cast<uint16_t>(n));
  w.frag_hold.releasing = false;
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
  const pod_network_conf* pods = w.pods.conf;
  w.pods.routes = pods && w.pod_routes_slot ? __atomic_load_n(w.pod_routes_slot, __ATOMIC_ACQUIRE) : nullptr;
  // VXLAN first: its inner packets go through every stage below.
  if (pods && pods->overlay == pod_overlay::vxlan) vxlan_decap_burst(pkts, meta, n, *pods, c);
  // DNS before the Services: a DNS address that is also a Service's is the responder's.
  if (w.dns) dns_burst(pkts, meta, n, *w.dns, __atomic_load_n(w.dns_names, __ATOMIC_ACQUIRE), c);
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
    // NetworkPolicy over new Service flows and new flows routed to pods.
    lb_use_policy(w.lb, w.policy_slot ? __atomic_load_n(w.policy_slot, __ATOMIC_ACQUIRE) : nullptr);
    w.lb.pods = w.pods.routes;
    conntrack_burst(pkts, meta, n, w.conntrack, lb_removal(w.lb.counters), c);
    lb_burst(pkts, meta, n, w.lb, w.conntrack, c);
    fragment_burst(pkts, meta, n, w.conntrack, w.lb, w.frag_hold, c);
    nat_burst(pkts, meta, n, w.nat, *w.conntrack.table, c);
    w.neighbor.now_tick = neighbor_tick(w.now_ns);
    route_burst(pkts, meta, n, w.nexthops, *w.conntrack.table, w.neighbor, c, w.pods.routes);
  }
  neighbor_snoop_burst(pkts, meta, n, *w.local, w.neighbor, c);
  w.local_state.now_ns = w.now_ns;
  local_burst(pkts, meta, n, *w.local, w.local_state, c);
  // Last: what no Service and no address of the gateway claimed may be for a pod.
  if (w.pods.routes) {
    w.pods.now_ns = w.now_ns;
    w.neighbor.now_tick = neighbor_tick(w.now_ns);
    pod_forward_burst(pkts, meta, n, w.pods, w.nexthops, w.neighbor, c);
  }
  dispatch(w, pkts, meta, n);
  // Fragments this burst's first fragments released, right behind them.
  if (w.frag_hold.hold && w.frag_hold.hold->released() && !w.frag_hold.releasing) run_released(w);
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

namespace {

// The resolver's table of this loop (the quiescent point after the loop lets
// it free the one replaced), for every stage that reads it.
void refresh_nexthops(worker_conf& w) {
  const nexthop_table* t = __atomic_load_n(w.nexthops_slot, __ATOMIC_ACQUIRE);
  if (t == w.nexthops) return;
  w.nexthops = t;
  w.lb.nexthops = t;
  if (w.tcp) w.tcp->connect.nexthops = t;
}

// A frame another thread hands this worker to send, mbuf->port the port.
void inject(worker_conf& w, rte_mbuf* m) {
  uint16_t port = m->port;
  if (port < w.n_ports && (!w.tx_linearize[port] || linearize(w, m))) {
    enqueue_tx(w, port, m);
    return;
  }
  w.counters->drops[static_cast<unsigned>(port < w.n_ports ? drop_reason::multiseg_unsupported
                                                             : drop_reason::not_for_gateway)]++;
  rte_pktmbuf_free(m);
}

// The resolver's frames: solicitations, packets whose neighbour answered.
void poll_inject(worker_conf& w, rte_ring* ring) {
  rte_mbuf* pkts[max_burst];
  unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), max_burst, nullptr);
  for (unsigned i = 0; i < n; ++i) inject(w, pkts[i]);
}

// Control's DNS forwarder's: UDP responses to send, and answers to DNS over
// TCP queries for the connections they came on (pipelines/dns/dns_tcp_punt.h).
void poll_dns_replies(worker_conf& w) {
  rte_mbuf* pkts[max_burst];
  unsigned n = rte_ring_sc_dequeue_burst(w.dns_reply, reinterpret_cast<void**>(pkts), max_burst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    if (pkts[i]->port != dns_tcp_punt_port) {
      inject(w, pkts[i]);
    } else if (w.tcp && w.tcp->dns) {
      const dns::table* names = w.dns_names ? __atomic_load_n(w.dns_names, __ATOMIC_ACQUIRE) : nullptr;
      dns::tcp_on_forwarded_answer(*w.tcp->dns, pkts[i], names, w.now_ns, *w.counters);
    } else {
      w.counters->drops[static_cast<unsigned>(drop_reason::dns_tcp_answer_gone)]++;
      rte_pktmbuf_free(pkts[i]);
    }
  }
}

}  // namespace

unsigned worker_poll(worker_conf& w) {
  if (w.nexthops_slot) refresh_nexthops(w);
  if (w.inject) poll_inject(w, w.inject);
  if (w.dns_reply) poll_dns_replies(w);
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
    w.lb.counters.now_tsc = rte_get_tsc_cycles();
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

void worker_drain(worker_conf& w, unsigned received, uint64_t loop_start) {
  bool pending = false;
  for (uint16_t p = 0; p < w.n_ports; ++p) pending |= w.tx[p].n != 0;
  // The clock is read only when the answer can depend on it.
  bool hold_possible = pending && received != 0 && w.drain.bound_tsc != 0;
  if (w.drain.due(received != 0, pending, loop_start, hold_possible ? rte_rdtsc() : loop_start)) worker_flush(w);
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

// `show l7`: the proxy's client slots counted a bounded number per loop,
// then its endpoints copied.
void serve_l7_snapshot(worker_conf& w) {
  l7_snapshot_request& r = *w.l7_snapshot;
  uint32_t want = __atomic_load_n(&r.requested, __ATOMIC_ACQUIRE);
  if (want == r.done) return;
  const proxy::proxy_worker* pw = w.tcp ? w.tcp->proxy : nullptr;
  r.has_proxy = pw != nullptr;
  if (pw) {
    constexpr uint32_t slots_per_loop = 4096;
    if (!proxy::proxy_count_step(*pw, r.cursor, slots_per_loop, r.summary)) return;
    r.filled = proxy::proxy_copy_endpoints(*pw, r.endpoints, r.capacity);
  }
  __atomic_store_n(&r.done, want, __ATOMIC_RELEASE);
}

}  // namespace

void worker_quiescent(worker_conf& w) {
  // Nothing of a Service record is held across loops: this is a quiescent point.
  if (w.rcu) rte_rcu_qsbr_quiescent(w.rcu, w.index);
  if (w.l7_snapshot) serve_l7_snapshot(w);
  if (w.snapshot && w.conntrack.table) serve_conn_snapshot(w, *w.conntrack.table);
}

void worker_upkeep(worker_conf& w, unsigned expiry_buckets) {
  if (w.tcp && w.tcp->stack) publish_tcp_counters(*w.tcp->stack, w.counters->tcp);
  conn_table* ct = w.conntrack.table;
  if (!ct) return;
  // Held fragments expire on the worker's clock when no burst comes too.
  if (w.frag_hold.hold) fragment_hold_expire(w.frag_hold, w.now_ns, *w.counters);
  // A few buckets at a time: expiry costs a little, always, never a pause.
  ct->expire_step(w.now_ns, expiry_buckets, lb_removal(w.lb.counters));
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
}

void worker_housekeeping(worker_conf& w) {
  worker_upkeep(w, 8);
  worker_quiescent(w);
}

// Loops per expiry step and counter publication in worker_main (a power of two).
constexpr uint64_t upkeep_stride = 16;

int worker_main(void* arg) {
  auto& w = *static_cast<worker_conf*>(arg);
  lcore_counters& c = *w.counters;
  uint64_t last_t0 = rte_rdtsc();
  while (!*w.stop) {
    uint64_t t0 = rte_rdtsc();
    c.loop_gaps[loop_gap_bucket(t0 - last_t0)]++;
    c.loop_gap_cycles += t0 - last_t0;
    last_t0 = t0;
    unsigned n = worker_poll(w);
    worker_drain(w, n, t0);
    // An idle loop's clock: the TSC read at its start (a read costs ~27
    // cycles here, a fifth of an idle loop).
    if (w.timestamp_offset < 0 && n == 0) w.now_ns = w.tsc_clock.to_ns(t0);
    // The expiry step, paced by the TSC (expiry_pace), and the counters'
    // publication every upkeep_stride loops rather than in every loop.
    if ((c.loops & (upkeep_stride - 1)) == 0) worker_upkeep(w, w.expiry.due(w.tsc_clock.to_ns(t0)));
    worker_quiescent(w);
    c.loops++;
    if (n) {
      c.busy_loops++;
      c.busy_cycles += rte_rdtsc() - t0;
    }
  }
  worker_flush(w);
  fragment_hold_clear(w.frag_hold, c);
  worker_upkeep(w, 8);  // the counters as they end
  return 0;
}

}  // namespace kgw
