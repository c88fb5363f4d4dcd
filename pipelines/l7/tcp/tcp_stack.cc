// The stack's life, its connections' lives and the application's calls.
#include "pipelines/l7/tcp/tcp_stack.h"

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "pipelines/l7/tcp/tcp_checksum.h"
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

template <typename T>
T* alloc_array(uint64_t n, int socket) {
  return static_cast<T*>(rte_zmalloc_socket("kgw_tcp", n * sizeof(T), RTE_CACHE_LINE_SIZE, socket));
}

uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

bool config_ok(const tcp_config& c) {
  return c.max_connections > 0 && c.max_connections < (1u << 30) && c.max_listeners > 0 &&
         c.tx_ring_size > 0 && c.timer_slots > 0 && (c.timer_slots & (c.timer_slots - 1)) == 0 &&
         c.timer_tick_ns > 0 && c.recv_buffer >= 1024 && c.recv_buffer <= (1u << 30) &&
         c.send_buffer > 0 && c.mtu >= 576 + 20 && c.delack_segments > 0;
}

// The least shift that lets the whole receive buffer be advertised.
uint8_t wscale_for(const tcp_config& c) {
  if (!c.window_scaling) return 0;
  uint8_t ws = 0;
  while (ws < max_wscale && (c.recv_buffer >> ws) > 65535) ws++;
  return ws;
}

tcb* conn_of(tcp_stack& s, tcp_conn_id c) {
  if (c.index >= s.capacity) return nullptr;
  tcb& t = s.tcbs[c.index];
  return t.in_use && t.app_owned && t.gen == c.gen ? &t : nullptr;
}
const tcb* conn_of(const tcp_stack& s, tcp_conn_id c) { return conn_of(const_cast<tcp_stack&>(s), c); }

void tcb_free(tcp_stack& s, tcb& t) {
  uint32_t i = index_of(s, t);
  table_remove(s, i);
  stop_timers(s, t);
  if (t.on_event_list) s.events.remove(s.tcbs, i);
  if (t.on_output_list) s.blocked.remove(s.tcbs, i);
  if (t.on_tw_list) s.time_wait.remove(s.tcbs, i);
  queue_free(t.sndq);
  queue_free(t.rcvq);
  queue_free(t.ooo);
  uint32_t gen = t.gen + 1;
  t = tcb{};
  t.gen = gen;
  s.free_list[s.n_free++] = i;
  s.n_used--;
}

void release_app(tcp_stack& s, tcb& t) {
  t.app_owned = false;
  t.events = 0;
  if (t.on_event_list) {
    s.events.remove(s.tcbs, index_of(s, t));
    t.on_event_list = false;
  }
}

const tcp_listener* find_listener(const tcp_stack& s, uint8_t family, const uint8_t* addr, uint16_t port,
                                  bool exact_only) {
  const tcp_listener* any = nullptr;
  for (uint32_t i = 0; i < s.cfg.max_listeners; ++i) {
    const tcp_listener& l = s.listeners[i];
    if (!l.used || l.family != family || l.port != port) continue;
    if (!l.any && std::memcmp(l.addr, addr, 16) == 0) return &l;
    if (l.any && !any) any = &l;
  }
  return exact_only ? nullptr : any;
}

tcp_tuple tuple_of(const ip_addr& local, uint16_t lport, const ip_addr& remote, uint16_t rport) {
  tcp_tuple t;
  t.family = local.family;
  t.lport = lport;
  t.rport = rport;
  std::memcpy(t.laddr, local.b.data(), 16);
  std::memcpy(t.raddr, remote.b.data(), 16);
  if (t.family == 4) {
    std::memset(t.laddr + 4, 0, 12);
    std::memset(t.raddr + 4, 0, 12);
  }
  return t;
}

}  // namespace

// ---- creation -------------------------------------------------------------

size_t tcp_connection_bytes(const tcp_config& cfg) {
  size_t n = std::max(1u, cfg.max_connections), buckets = pow2_at_least(cfg.max_connections);
  return sizeof(tcb) + sizeof(uint32_t) + sizeof(timer_node) + (buckets * sizeof(uint32_t) + n - 1) / n;
}

size_t tcp_stack_memory_size(const tcp_config& cfg) {
  size_t n = cfg.max_connections, buckets = pow2_at_least(cfg.max_connections);
  return sizeof(tcp_stack) + n * (sizeof(tcb) + sizeof(uint32_t) + sizeof(timer_node)) + buckets * sizeof(uint32_t) +
         cfg.max_listeners * sizeof(tcp_listener) + cfg.timer_slots * sizeof(uint32_t) + max_burst * sizeof(uint32_t) +
         cfg.tx_ring_size * (sizeof(rte_mbuf*) + sizeof(pkt_meta));
}

tcp_stack* tcp_stack_create(const tcp_config& cfg, rte_mempool* pool, int socket, uint64_t now_ns) {
  if (!config_ok(cfg) || !pool) return nullptr;
  void* mem = rte_zmalloc_socket("kgw_tcp_stack", sizeof(tcp_stack), RTE_CACHE_LINE_SIZE, socket);
  if (!mem) return nullptr;
  tcp_stack* s = new (mem) tcp_stack{};
  s->cfg = cfg;
  s->pool = pool;
  s->rcv_wscale = wscale_for(cfg);
  s->now_ns = now_ns;
  s->capacity = cfg.max_connections;
  uint32_t n_buckets = pow2_at_least(cfg.max_connections);
  s->bucket_mask = n_buckets - 1;
  s->tcbs = alloc_array<tcb>(s->capacity, socket);
  s->free_list = alloc_array<uint32_t>(s->capacity, socket);
  s->buckets = alloc_array<uint32_t>(n_buckets, socket);
  s->listeners = alloc_array<tcp_listener>(cfg.max_listeners, socket);
  timer_node* nodes = alloc_array<timer_node>(s->capacity, socket);
  uint32_t* slots = alloc_array<uint32_t>(cfg.timer_slots, socket);
  s->due = alloc_array<uint32_t>(max_burst, socket);
  s->tx_pkts = alloc_array<rte_mbuf*>(cfg.tx_ring_size, socket);
  s->tx_meta = alloc_array<pkt_meta>(cfg.tx_ring_size, socket);
  if (!s->tcbs || !s->free_list || !s->buckets || !s->listeners || !nodes || !slots || !s->due ||
      !s->tx_pkts || !s->tx_meta) {
    s->wheel.nodes = nodes;
    s->wheel.slots = slots;
    tcp_stack_destroy(s);
    return nullptr;
  }
  for (uint32_t i = 0; i < s->capacity; ++i) new (&s->tcbs[i]) tcb{};
  for (uint32_t i = 0; i < cfg.max_listeners; ++i) new (&s->listeners[i]) tcp_listener{};
  for (uint32_t i = 0; i < cfg.tx_ring_size; ++i) new (&s->tx_meta[i]) pkt_meta{};
  // Lowest indices first out of the free stack: easier to read in tests.
  for (uint32_t i = 0; i < s->capacity; ++i) s->free_list[i] = s->capacity - 1 - i;
  s->n_free = s->capacity;
  for (uint32_t i = 0; i < n_buckets; ++i) s->buckets[i] = no_index;
  wheel_init(s->wheel, nodes, s->capacity, slots, cfg.timer_slots, cfg.timer_tick_ns, now_ns);
  // One secret per purpose (RFC 6528 section 3, RFC 4987 section 3.6).
  s->isn_key = derive_key(cfg.seed, 1);
  s->cookie_key = derive_key(cfg.seed, 2);
  for (int i = 0; i < 3; ++i) {
    sip_key k = derive_key(cfg.seed, 3 + 8 * i);  // labels 3, 11, 19: apart from the others
    s->table_key.k[2 * i] = k.k0;
    s->table_key.k[2 * i + 1] = k.k1;
  }
  s->port_key = derive_key(cfg.seed, 5);
  return s;
}

void tcp_stack_destroy(tcp_stack* s) {
  if (!s) return;
  if (s->tcbs)
    for (uint32_t i = 0; i < s->capacity; ++i) {
      queue_free(s->tcbs[i].sndq);
      queue_free(s->tcbs[i].rcvq);
      queue_free(s->tcbs[i].ooo);
    }
  if (s->tx_pkts)
    for (uint32_t k = 0; k < s->tx_count; ++k)
      rte_pktmbuf_free(s->tx_pkts[(s->tx_head + k) % s->cfg.tx_ring_size]);
  rte_free(s->tcbs);
  rte_free(s->free_list);
  rte_free(s->buckets);
  rte_free(s->listeners);
  rte_free(s->wheel.nodes);
  rte_free(s->wheel.slots);
  rte_free(s->due);
  rte_free(s->tx_pkts);
  rte_free(s->tx_meta);
  s->~tcp_stack();
  rte_free(s);
}

// ---- connection life --------------------------------------------------------

tcb* tcb_alloc(tcp_stack& s, const tcp_tuple& tup) {
  if (s.n_free == 0) return nullptr;
  uint32_t i = s.free_list[s.n_free - 1];
  tcb& t = s.tcbs[i];
  t.tuple = tup;
  if (!table_insert(s, i)) {
    t.tuple = tcp_tuple{};
    return nullptr;
  }
  s.n_free--;
  t.addr_sum = tuple_addr_sum(tup);
  t.in_use = true;
  t.last_rx_ns = s.now_ns;
  s.n_used++;
  return &t;
}

void set_state(tcp_stack& s, tcb& t, tcp_state st) {
  if (t.state == tcp_state::syn_received && t.passive && st != tcp_state::syn_received &&
      s.listeners[t.listener].syn_received > 0)
    s.listeners[t.listener].syn_received--;
  if (t.state == tcp_state::time_wait && t.on_tw_list) {
    s.time_wait.remove(s.tcbs, index_of(s, t));
    t.on_tw_list = false;
  }
  t.state = st;
  s.counters.entered[static_cast<unsigned>(st)]++;
}

void post_event(tcp_stack& s, tcb& t, uint16_t kinds) {
  if (!t.app_owned || !kinds) return;
  t.events |= kinds;
  if (!t.on_event_list) {
    s.events.push_back(s.tcbs, index_of(s, t));
    t.on_event_list = true;
  }
}

void tcb_finish(tcp_stack& s, tcb& t, uint16_t kinds) {
  if (t.state != tcp_state::closed) set_state(s, t, tcp_state::closed);
  if (!t.app_owned) {
    tcb_free(s, t);  // all of it at once
    return;
  }
  table_remove(s, index_of(s, t));
  stop_timers(s, t);
  if (t.on_output_list) {
    s.blocked.remove(s.tcbs, index_of(s, t));
    t.on_output_list = false;
  }
  queue_free(t.sndq);
  queue_free(t.ooo);
  // RFC 9293 3.10.7.4: a reset flushes every queue; an orderly end leaves
  // what was received for the application to read.
  if (kinds & (ev_reset | ev_timeout)) queue_free(t.rcvq);
  post_event(s, t, kinds);
}

void enter_time_wait(tcp_stack& s, tcb& t) {
  set_state(s, t, tcp_state::time_wait);
  stop_rexmit(s, t);
  t.delack_at = 0;
  queue_free(t.sndq);
  queue_free(t.ooo);
  // RFC 9293 3.10.7.4: TIME-WAIT lasts 2 MSL. The population is bounded: the
  // oldest makes room (counted).
  if (s.time_wait.size >= s.cfg.max_time_wait && s.time_wait.head != no_index) {
    tcb& oldest = s.tcbs[s.time_wait.head];
    s.counters.time_wait_recycled++;
    tcb_finish(s, oldest, 0);
  }
  if (s.cfg.max_time_wait > 0) {
    s.time_wait.push_back(s.tcbs, index_of(s, t));
    t.on_tw_list = true;
    arm_life(s, t, life_kind::time_wait, s.now_ns + 2 * s.cfg.msl_ns);
  }
  post_event(s, t, ev_closed);
  if (s.cfg.max_time_wait == 0) tcb_finish(s, t, 0);
}

void want_output(tcp_stack& s, tcb& t) {
  if (t.on_output_list) return;
  s.blocked.push_back(s.tcbs, index_of(s, t));
  t.on_output_list = true;
}

// ---- negotiated parameters -------------------------------------------------

uint16_t mss_clamp(const tcp_stack& s, uint8_t family) {
  return static_cast<uint16_t>(s.cfg.mtu - (family == 4 ? 20 : 40) - 20);
}

conn_secrets make_secrets(const tcp_stack& s, const tcp_tuple& t) {
  uint64_t h = siphash24(s.isn_key, &t, sizeof t);
  return {static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32)};
}

void tcb_init_from_syn(tcp_stack& s, tcb& t, const tcp_opts& peer, uint32_t iss, uint32_t ts_offset) {
  t.iss = iss;
  t.snd_una = t.snd_nxt = t.snd_max = iss;
  t.syn_acked = false;
  t.ts_offset = ts_offset;
  // RFC 9293 3.7.1: without the option, 536 (IPv4) or 1220 (IPv6).
  uint16_t peer_mss = peer.has_mss ? peer.mss : (t.tuple.family == 4 ? 536 : 1220);
  uint16_t clamp = mss_clamp(s, t.tuple.family);
  t.mss = peer_mss < clamp ? peer_mss : clamp;
  if (t.mss < 64) t.mss = 64;  // a floor against a peer asking for absurdly small segments
  // RFC 7323 2.2: scaling applies in both directions only if both sent the option.
  t.ws_ok = s.cfg.window_scaling && peer.has_wscale;
  if (t.ws_ok) {
    t.snd_wscale = peer.wscale;
    t.rcv_wscale = our_wscale(s);
  } else {
    t.snd_wscale = t.rcv_wscale = 0;
  }
  t.ts_ok = s.cfg.timestamps && peer.has_ts;
  t.sack_ok = s.cfg.sack && peer.sack_permitted;
  rtt_init(s.cfg, t);
  cc_init(s.cfg, t);
}

// ---- listeners and active opens -------------------------------------------------

int tcp_listen(tcp_stack& s, const ip_addr& addr, uint16_t port) {
  if (addr.family != 4 && addr.family != 6) return -1;
  uint8_t a[16] = {};
  std::memcpy(a, addr.b.data(), addr.family == 4 ? 4 : 16);
  bool any = true;
  for (uint8_t b : a) any = any && b == 0;
  int free_slot = -1;
  for (uint32_t i = 0; i < s.cfg.max_listeners; ++i) {
    const tcp_listener& l = s.listeners[i];
    if (l.used && l.family == addr.family && l.port == port && l.any == any &&
        std::memcmp(l.addr, a, 16) == 0)
      return -1;
    if (!l.used && free_slot < 0) free_slot = static_cast<int>(i);
  }
  if (free_slot < 0) return -1;
  tcp_listener& l = s.listeners[free_slot];
  l = tcp_listener{};
  l.used = true;
  l.any = any;
  l.family = addr.family;
  l.port = port;
  std::memcpy(l.addr, a, 16);
  return free_slot;
}

void tcp_unlisten(tcp_stack& s, int listener) {
  if (listener < 0 || static_cast<uint32_t>(listener) >= s.cfg.max_listeners) return;
  // Connections still in SYN-RECEIVED complete or time out on their own.
  s.listeners[listener].used = false;
}

const tcp_listener* listener_for(const tcp_stack& s, const tcp_tuple& t) {
  return find_listener(s, t.family, t.laddr, t.lport, false);
}

tcp_conn_id tcp_connect(tcp_stack& s, const tcp_connect_args& a) {
  if (a.local.family != a.remote.family || (a.local.family != 4 && a.local.family != 6) ||
      a.port_lo == 0 || a.port_hi < a.port_lo || s.n_free == 0)
    return {};
  // RFC 6056 algorithm 3: a keyed-hash start per destination plus a counter.
  port_hash_key key{};
  std::memcpy(key.l, a.local.b.data(), 16);
  std::memcpy(key.r, a.remote.b.data(), 16);
  key.rport = a.remote_port;
  uint32_t n = uint32_t{a.port_hi} - a.port_lo + 1;
  if (!s.last_port_valid || std::memcmp(&key, &s.last_port_key, sizeof key) != 0) {
    s.last_port_key = key;
    s.last_port_offset = static_cast<uint32_t>(siphash24(s.port_key, &key, sizeof key));
    s.last_port_valid = true;
  }
  const uint32_t offset = s.last_port_offset;
  for (uint32_t i = 0; i < n; ++i) {
    uint16_t port = static_cast<uint16_t>(a.port_lo + (offset + s.port_counter + i) % n);
    tcp_tuple tup = tuple_of(a.local, port, a.remote, a.remote_port);
    if (table_lookup(s, tup) != no_index) continue;
    if (a.port_ok && !a.port_ok(a.ctx, a.local, port, a.remote, a.remote_port)) continue;
    s.port_counter += i + 1;
    tcb* t = tcb_alloc(s, tup);
    if (!t) continue;  // its table chain is full: another port
    t->app_owned = true;
    tcp_opts none;  // what the peer offers is learned from its SYN-ACK
    none.has_mss = true;
    none.mss = mss_clamp(s, tup.family);
    conn_secrets sec = make_secrets(s, tup);
    tcb_init_from_syn(s, *t, none, make_isn(s, sec), sec.ts_offset);
    t->rcv_wscale = our_wscale(s);  // offered; dropped again if the peer does not scale
    set_state(s, *t, tcp_state::syn_sent);
    s.counters.active_opens++;
    tcp_output(s, *t);
    return {index_of(s, *t), t->gen};
  }
  return {};
}

// ---- application calls ----------------------------------------------------------

namespace {

// tcp_send's queueing, without the output.
int queue_send(tcp_stack& s, tcb& t, rte_mbuf* chain) {
  switch (t.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::close_wait:
      break;
    default:
      return -EPIPE;
  }
  if (t.fin_queued) return -EPIPE;
  uint64_t len = 0;
  for (rte_mbuf* m = chain; m; m = m->next) len += m->data_len;
  if (len > s.cfg.send_buffer) return -EMSGSIZE;
  if (t.sndq.bytes + len > s.cfg.send_buffer) return -ENOBUFS;
  queue_append_chain(t.sndq, chain);
  return 0;
}

int close_sending_side(tcp_stack& s, tcb& t);

}  // namespace

int tcp_send(tcp_stack& s, tcp_conn_id c, rte_mbuf* chain) {
  tcb* t = conn_of(s, c);
  if (!t) return -ENOTCONN;
  int rc = queue_send(s, *t, chain);
  if (rc == 0 && is_synchronized(t->state)) output_at_drain(s, *t);
  return rc;
}

int tcp_send_last(tcp_stack& s, tcp_conn_id c, rte_mbuf* chain) {
  tcb* t = conn_of(s, c);
  if (!t) return -ENOTCONN;
  int rc = queue_send(s, *t, chain);
  if (rc != 0) return rc;
  // The FIN is queued before any output: the last segment carries it
  // (queue_send took the chain only in states where this succeeds).
  close_sending_side(s, *t);
  return 0;
}

uint32_t tcp_send_space(const tcp_stack& s, tcp_conn_id c) {
  const tcb* t = conn_of(s, c);
  if (!t || t->fin_queued) return 0;
  return s.cfg.send_buffer - t->sndq.bytes;
}

rte_mbuf* tcp_recv(tcp_stack& s, tcp_conn_id c, uint32_t max_bytes) {
  tcb* t = conn_of(s, c);
  if (!t || t->rcvq.bytes == 0 || max_bytes == 0) return nullptr;
  rte_mbuf* m = queue_take(t->rcvq, max_bytes, s.pool);
  if (!m) {
    count(s, tcp_drop::no_mbuf);
    return nullptr;
  }
  // RFC 9293 3.8.6.2.2: tell the peer once the window has grown by a good
  // part of the buffer or two segments, not byte by byte (receiver SWS
  // avoidance); always when it reopens from zero. In this poll loop: the
  // application's answer to what it read carries the update.
  if (t->state == tcp_state::established || t->state == tcp_state::fin_wait_1 ||
      t->state == tcp_state::fin_wait_2) {
    uint32_t offered = t->rcv_adv - t->rcv_nxt;
    uint32_t now = rcv_window(s, *t);
    uint32_t step = s.cfg.recv_buffer / 2 < 2u * t->mss ? s.cfg.recv_buffer / 2 : 2u * t->mss;
    if (now > offered && (now - offered >= step || offered < t->mss)) {
      owe_ack(s, *t);
      if (t->ack_now) tcp_output(s, *t);  // the flush list was full: at once
    }
  }
  return m;
}

uint32_t tcp_recv_ready(const tcp_stack& s, tcp_conn_id c) {
  const tcb* t = conn_of(s, c);
  return t ? t->rcvq.bytes : 0;
}

namespace {

// Queues our FIN (RFC 9293 3.10.4 CLOSE): it goes after the queued data.
int close_sending_side(tcp_stack& s, tcb& t) {
  if (t.fin_queued) return 0;
  switch (t.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
      queue_fin(t);  // acted upon once ESTABLISHED
      return 0;
    case tcp_state::established:
      queue_fin(t);
      set_state(s, t, tcp_state::fin_wait_1);
      break;
    case tcp_state::close_wait:
      queue_fin(t);
      set_state(s, t, tcp_state::last_ack);
      break;
    default:
      return -ENOTCONN;
  }
  output_at_drain(s, t);
  return 0;
}

}  // namespace

int tcp_shutdown(tcp_stack& s, tcp_conn_id c) {
  tcb* t = conn_of(s, c);
  if (!t) return -ENOTCONN;
  return close_sending_side(s, *t);
}

int tcp_close(tcp_stack& s, tcp_conn_id c) {
  tcb* t = conn_of(s, c);
  if (!t) return -ENOTCONN;
  release_app(s, *t);
  switch (t->state) {
    case tcp_state::closed:
      tcb_free(s, *t);
      return 0;
    case tcp_state::syn_sent:
      tcb_finish(s, *t, 0);
      return 0;
    default:
      break;
  }
  if (t->rcvq.bytes || t->ooo.bytes) {
    // Data the application will never read: the peer must not believe it was
    // taken (RFC 2525 section 2.17).
    send_rst(s, *t);
    tcb_finish(s, *t, 0);
    return 0;
  }
  if (t->state == tcp_state::fin_wait_2) arm_life(s, *t, life_kind::fin_wait_2, s.now_ns + s.cfg.fin_wait_2_ns);
  close_sending_side(s, *t);
  return 0;
}

int tcp_abort(tcp_stack& s, tcp_conn_id c) {
  tcb* t = conn_of(s, c);
  if (!t) return -ENOTCONN;
  release_app(s, *t);
  // RFC 9293 3.10.5: a RST in the synchronized states (and SYN-RECEIVED).
  if (t->state != tcp_state::closed && t->state != tcp_state::syn_sent && t->state != tcp_state::time_wait)
    send_rst(s, *t);
  tcb_finish(s, *t, 0);
  return 0;
}

// ---- output and events -----------------------------------------------------

uint16_t tcp_drain_tx(tcp_stack& s, rte_mbuf** pkts, pkt_meta* meta, uint16_t max) {
  if (s.n_flush) flush_output(s);
  uint16_t n = 0;
  while (n < max && s.tx_count) {
    pkts[n] = s.tx_pkts[s.tx_head];
    meta[n] = s.tx_meta[s.tx_head];
    if (++s.tx_head == s.cfg.tx_ring_size) s.tx_head = 0;
    s.tx_count--;
    n++;
  }
  return n;
}

uint32_t tcp_tx_pending(const tcp_stack& s) { return s.tx_count; }

uint16_t tcp_poll_events(tcp_stack& s, tcp_event* ev, uint16_t max) {
  uint16_t n = 0;
  while (n < max) {
    uint32_t i = s.events.pop_front(s.tcbs);
    if (i == no_index) break;
    tcb& t = s.tcbs[i];
    t.on_event_list = false;
    if (!t.events) continue;
    ev[n].conn = {i, t.gen};
    ev[n].kinds = t.events;
    ev[n].listener = t.listener;
    t.events = 0;
    n++;
  }
  return n;
}

// ---- introspection -----------------------------------------------------------------

void tcp_set_tag(tcp_stack& s, tcp_conn_id c, uint32_t tag) {
  if (tcb* t = conn_of(s, c)) t->tag = tag;
}

uint32_t tcp_tag(const tcp_stack& s, tcp_conn_id c) {
  const tcb* t = conn_of(s, c);
  return t ? t->tag : 0;
}

tcp_state tcp_conn_state(const tcp_stack& s, tcp_conn_id c) {
  const tcb* t = conn_of(s, c);
  return t ? t->state : tcp_state::closed;
}

bool tcp_info(const tcp_stack& s, tcp_conn_id c, tcp_conn_info& o) {
  const tcb* t = conn_of(s, c);
  if (!t) return false;
  o.state = t->state;
  o.tuple = t->tuple;
  o.snd_una = t->snd_una;
  o.snd_nxt = t->snd_nxt;
  o.snd_wnd = t->snd_wnd;
  o.rcv_nxt = t->rcv_nxt;
  o.rcv_wnd = t->rcv_adv - t->rcv_nxt;
  o.cwnd = t->cwnd;
  o.ssthresh = t->ssthresh;
  o.mss = t->mss;
  o.srtt_us = t->srtt_us;
  o.rto_us = t->rto_us;
  o.iss = t->iss;
  o.irs = t->irs;
  o.snd_wscale = t->snd_wscale;
  o.rcv_wscale = t->rcv_wscale;
  o.ts_ok = t->ts_ok;
  o.sack_ok = t->sack_ok;
  o.in_recovery = t->in_recovery;
  o.send_queued = t->sndq.bytes;
  o.recv_queued = t->rcvq.bytes;
  o.ooo_segments = t->ooo.segs;
  return true;
}

const tcp_counters& tcp_stack_counters(const tcp_stack& s) { return s.counters; }
uint32_t tcp_connections(const tcp_stack& s) { return s.n_used; }
uint32_t tcp_time_wait_count(const tcp_stack& s) { return s.time_wait.size; }
uint32_t tcp_lookup(const tcp_stack& s, const tcp_tuple& t) { return table_lookup(s, t); }

}  // namespace kgw::tcp
