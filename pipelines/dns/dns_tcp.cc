#include "pipelines/dns/dns_tcp.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_stage.h"
#include "pipelines/dns/dns_tcp_punt.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

namespace {

using namespace kgw::tcp;

constexpr uint32_t prefix_len = 2;

uint32_t slot_of(const tcp_worker& w, tcp_conn_id id) {
  uint32_t s = tcp_tag(*w.stack, id) >> 8;  // slot + 1
  return s >= 1 && s <= w.max_conns && w.slots[s - 1].in_use && w.slots[s - 1].conn == id ? s - 1 : UINT32_MAX;
}

void release(tcp_worker& w, uint32_t slot) {
  tcp_slot& s = w.slots[slot];
  for (uint16_t i = 0; i < s.n_answers; ++i) rte_pktmbuf_free(s.answers[i]);
  uint32_t generation = s.generation;  // kept: answers still out for this connection must not match the next
  s = tcp_slot{};
  s.generation = generation;
  s.next_free = w.free_head;
  w.free_head = slot + 1;
  w.n_active--;
}

void drop(lcore_counters& c, drop_reason why) { c.drops[static_cast<unsigned>(why)]++; }

// The chain's bytes into `out`, then the chain freed.
void copy_out(rte_mbuf* m, uint8_t* out) {
  for (rte_mbuf* seg = m; seg; seg = seg->next) {
    std::memcpy(out, rte_pktmbuf_mtod(seg, const uint8_t*), seg->data_len);
    out += seg->data_len;
  }
  rte_pktmbuf_free(m);
}

// `len` bytes of `p` as a chain of the pool's mbufs; nullptr when the pool is dry.
rte_mbuf* chain_of(rte_mempool* pool, const uint8_t* p, uint32_t len) {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  while (len) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) {
      rte_pktmbuf_free(head);
      return nullptr;
    }
    uint32_t n = std::min<uint32_t>(len, rte_pktmbuf_tailroom(m));
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), p, n);
    m->data_len = static_cast<uint16_t>(n);
    m->pkt_len = n;
    if (!head) {
      head = m;
    } else {
      tail->next = m;
      head->nb_segs++;
      head->pkt_len += n;
    }
    tail = m;
    p += n;
    len -= n;
  }
  return head;
}

// The query in the scratch buffer (after the prefix's two bytes) handed to
// control's forwarder; false when it cannot be (no mbuf, longer than one,
// the punt ring full).
bool forward(tcp_worker& w, uint32_t slot, uint32_t qlen, uint64_t now_ns) {
  tcp_slot& sl = w.slots[slot];
  rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
  if (!m) return false;
  if (rte_pktmbuf_tailroom(m) < sizeof(dns_tcp_punt) + qlen) {
    rte_pktmbuf_free(m);
    return false;
  }
  dns_tcp_punt h{dns_tcp_punt_magic, slot, sl.generation, qlen};
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
  std::memcpy(p, &h, sizeof h);
  std::memcpy(p + sizeof h, w.scratch + prefix_len, qlen);
  m->data_len = static_cast<uint16_t>(sizeof h + qlen);
  m->pkt_len = m->data_len;
  m->port = dns_tcp_punt_port;
  if (rte_ring_sp_enqueue(w.punt, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  sl.forwarded++;
  sl.last_ns = now_ns;
  return true;
}

// The forwarded answers that arrived, in order, written into the connection
// as far as the send buffer's free room takes them: whole segments of the
// first answer's chain at a time, so that an answer longer than the buffer
// goes out as the client acknowledges. 0: done or waiting for room (the
// slot's n_answers says); -1: the connection was reset.
int send_answers(tcp_worker& w, uint32_t slot, uint64_t now_ns, lcore_counters& c) {
  tcp_stack& s = *w.stack;
  tcp_slot& sl = w.slots[slot];
  while (sl.n_answers) {
    rte_mbuf* m = sl.answers[0];
    uint32_t space = tcp_send_space(s, sl.conn);
    uint32_t take = 0;
    uint16_t k = 0;
    rte_mbuf* last = nullptr;
    for (rte_mbuf* seg = m; seg && take + seg->data_len <= space; seg = seg->next) {
      take += seg->data_len;
      k++;
      last = seg;
    }
    if (k == 0) return 0;  // ev_writable brings us back
    rte_mbuf* rest = last->next;
    if (rest) {
      rest->nb_segs = static_cast<uint16_t>(m->nb_segs - k);
      rest->pkt_len = m->pkt_len - take;
      last->next = nullptr;
      m->nb_segs = k;
      m->pkt_len = take;
    }
    sl.answers[0] = rest;
    if (tcp_send(s, sl.conn, m) != 0) {
      rte_pktmbuf_free(m);
      drop(c, drop_reason::dns_tcp_no_mbuf);
      tcp_abort(s, sl.conn);
      release(w, slot);
      return -1;
    }
    if (rest) continue;  // the room left decides
    for (uint16_t i = 1; i < sl.n_answers; ++i) sl.answers[i - 1] = sl.answers[i];
    sl.answers[--sl.n_answers] = nullptr;
    sl.forwarded--;
    sl.last_ns = now_ns;
    c.dns.tcp_forward_answers++;
  }
  return 0;
}

// The query in the scratch buffer (after the prefix's two bytes) answered
// and sent, or forwarded. 1: sent; 0: its response does not fit the free send room yet
// and `can_hold` (the caller holds the query); -1: the connection was reset.
int answer(tcp_worker& w, uint32_t slot, uint32_t qlen, bool can_hold, const table* t, uint64_t now_ns,
           lcore_counters& c) {
  tcp_stack& s = *w.stack;
  tcp_conn_id id = w.slots[slot].conn;
  uint32_t space = tcp_send_space(s, id);
  if (can_hold && space < prefix_len + qlen) return 0;
  uint32_t room = std::min<uint32_t>(max_tcp_message, space - prefix_len);
  answer_info info;
  uint32_t rlen = respond(w.scratch + prefix_len, qlen, room, t, info, transport::tcp, w.punt != nullptr);
  if (info.forward) {  // the query is untouched
    if (forward(w, slot, qlen, now_ns)) {
      dns_count_answer(info, 0, c.dns);
      c.dns.tcp_forwarded++;
      return 1;
    }
    // SERVFAIL: the REFUSED response without upstreams, its rcode changed.
    c.dns.tcp_forward_failed++;
    rlen = respond(w.scratch + prefix_len, qlen, room, t, info, transport::tcp, false);
    if (rlen >= header_len && info.rcode == rcode_refused) {
      w.scratch[prefix_len + 3] = static_cast<uint8_t>((w.scratch[prefix_len + 3] & 0xf0) | rcode_servfail);
      info.rcode = rcode_servfail;
    }
  }
  // TC because of the room left now, not because the answer is past what
  // TCP carries: answered again once the client has acknowledged.
  if (can_hold && rlen && info.truncated && space < w.send_need) return 0;
  dns_count_answer(info, rlen, c.dns);
  if (rlen == 0) {  // a response, or no header: nothing to answer, and the stream cannot be trusted
    drop(c, drop_reason::dns_not_query);
    tcp_abort(s, id);
    release(w, slot);
    return -1;
  }
  w.scratch[0] = static_cast<uint8_t>(rlen >> 8);
  w.scratch[1] = static_cast<uint8_t>(rlen);
  rte_mbuf* out = chain_of(w.pool, w.scratch, rlen + prefix_len);
  if (!out || tcp_send(s, id, out) != 0) {
    if (out) rte_pktmbuf_free(out);
    drop(c, drop_reason::dns_tcp_no_mbuf);
    tcp_abort(s, id);
    release(w, slot);
    return -1;
  }
  w.slots[slot].last_ns = now_ns;
  return 1;
}

// Answers every whole query waiting, in order. False when the connection
// was ended (reset and its slot released).
bool serve(tcp_worker& w, uint32_t slot, const table* t, uint64_t now_ns, lcore_counters& c) {
  tcp_stack& s = *w.stack;
  tcp_slot& sl = w.slots[slot];
  tcp_conn_id id = sl.conn;
  for (;;) {
    if (sl.n_answers) {  // forwarded answers that arrived go before anything after them
      if (send_answers(w, slot, now_ns, c) < 0) return false;
      if (sl.n_answers) break;  // ev_writable brings us back
    }
    if (sl.held_len) {  // the query before the next goes first
      uint32_t qlen = sl.held_len;
      std::memcpy(w.scratch + prefix_len, sl.held, qlen);
      int r = answer(w, slot, qlen, true, t, now_ns, c);
      if (r < 0) return false;
      if (r == 0) break;  // ev_writable brings us back
      sl.held_len = 0;
      continue;
    }
    if (sl.forwarded >= tcp_max_forwarded) break;  // read on once one is answered
    uint32_t ready = tcp_recv_ready(s, id);
    if (sl.want == 0) {
      if (ready < prefix_len) break;
      uint8_t p[prefix_len];
      rte_mbuf* m = tcp_recv(s, id, prefix_len);
      if (!m || rte_pktmbuf_pkt_len(m) != prefix_len) {  // the stack gave less than it said was ready
        if (m) rte_pktmbuf_free(m);
        break;
      }
      copy_out(m, p);
      sl.want = uint32_t{p[0]} << 8 | p[1];
      ready -= prefix_len;
      // Shorter than a header is no query; longer than the receive buffer
      // would never arrive whole.
      if (sl.want < 12 || sl.want > w.recv_room) {
        c.dns.queries++;
        drop(c, drop_reason::dns_tcp_framing);
        tcp_abort(s, id);
        release(w, slot);
        return false;
      }
    }
    if (ready < sl.want) break;
    // A query too long to hold is read only when any response fits.
    if (sl.want > tcp_held_query && tcp_send_space(s, id) < w.send_need) break;
    rte_mbuf* m = tcp_recv(s, id, sl.want);
    if (!m || rte_pktmbuf_pkt_len(m) != sl.want) {
      if (m) rte_pktmbuf_free(m);
      break;
    }
    uint32_t qlen = sl.want;
    sl.want = 0;
    copy_out(m, w.scratch + prefix_len);
    c.dns.queries++;
    c.dns.tcp_queries++;
    bool can_hold = qlen <= tcp_held_query;
    if (can_hold) std::memcpy(sl.held, w.scratch + prefix_len, qlen);  // respond() writes over it
    int r = answer(w, slot, qlen, can_hold, t, now_ns, c);
    if (r < 0) return false;
    if (r == 0) {
      sl.held_len = static_cast<uint16_t>(qlen);
      break;
    }
  }
  // The client has finished: what it sent whole is answered; a partial
  // message left can never complete. Our FIN follows the answers.
  if (!sl.held_len && !sl.forwarded && tcp_conn_state(s, id) == tcp_state::close_wait &&
      (sl.want ? tcp_recv_ready(s, id) < sl.want : tcp_recv_ready(s, id) < prefix_len))
    tcp_shutdown(s, id);
  return true;
}

}  // namespace

uint64_t tcp_worker_memory(uint32_t max_conns) {
  return (uint64_t{max_conns} * sizeof(tcp_slot) + 7) / 8 * 8 + prefix_len + max_tcp_message;
}

void tcp_worker_init(tcp_worker& w, void* mem, tcp::tcp_stack* stack, rte_mempool* pool, uint32_t app_tag,
                     uint32_t max_conns, uint64_t idle_ns, uint32_t send_buffer, uint32_t recv_buffer) {
  w = tcp_worker{};
  w.stack = stack;
  w.pool = pool;
  w.app_tag = app_tag & 0xff;
  w.max_conns = max_conns;
  w.idle_ns = idle_ns;
  w.send_need = std::min<uint32_t>(send_buffer, prefix_len + max_tcp_message);
  w.recv_room = std::min<uint32_t>(recv_buffer, max_tcp_message);
  w.slots = static_cast<tcp_slot*>(mem);
  for (uint32_t i = 0; i < max_conns; ++i) {
    new (&w.slots[i]) tcp_slot{};
    w.slots[i].next_free = i + 2 <= max_conns ? i + 2 : 0;
  }
  w.free_head = max_conns ? 1 : 0;
  w.scratch = static_cast<uint8_t*>(mem) + (uint64_t{max_conns} * sizeof(tcp_slot) + 7) / 8 * 8;
}

void tcp_on_event(tcp_worker& w, const tcp_event& ev, const table* t, uint64_t now_ns, lcore_counters& c) {
  tcp_stack& s = *w.stack;
  uint32_t slot = UINT32_MAX;
  if (ev.kinds & ev_accepted) {
    if (!w.free_head) {
      drop(c, drop_reason::dns_tcp_limit);
      tcp_abort(s, ev.conn);
      return;
    }
    slot = w.free_head - 1;
    tcp_slot& sl = w.slots[slot];
    w.free_head = sl.next_free;
    uint32_t generation = sl.generation + 1;
    sl = tcp_slot{};
    sl.generation = generation;
    sl.conn = ev.conn;
    sl.last_ns = now_ns;
    sl.in_use = true;
    w.n_active++;
    tcp_set_tag(s, ev.conn, w.app_tag | (slot + 1) << 8);
    c.dns.tcp_accepted++;
  } else {
    slot = slot_of(w, ev.conn);
    if (slot == UINT32_MAX) {  // not one of ours (kept safe: cannot happen)
      tcp_abort(s, ev.conn);
      return;
    }
  }
  if (ev.kinds & (ev_reset | ev_timeout)) {
    tcp_close(s, ev.conn);  // already reset: this only gives the id back
    release(w, slot);
    return;
  }
  if (ev.kinds & (ev_accepted | ev_readable | ev_writable | ev_peer_closed))
    if (!serve(w, slot, t, now_ns, c)) return;
  if (ev.kinds & ev_closed) {
    tcp_close(s, ev.conn);
    release(w, slot);
  }
}

void tcp_worker_forward(tcp_worker& w, rte_ring* punt, uint64_t forward_wait_ns) {
  w.punt = punt;
  w.forward_wait_ns = forward_wait_ns;
}

void tcp_on_forwarded_answer(tcp_worker& w, rte_mbuf* m, const table* t, uint64_t now_ns, lcore_counters& c) {
  dns_tcp_punt h{};
  bool ok = rte_pktmbuf_data_len(m) > sizeof h;  // the header and at least a byte of what follows
  if (ok) {
    std::memcpy(&h, rte_pktmbuf_mtod(m, const void*), sizeof h);
    ok = h.magic == dns_tcp_punt_magic && h.len == rte_pktmbuf_pkt_len(m) - sizeof h && h.len >= prefix_len + header_len &&
         h.slot < w.max_conns;
  }
  tcp_slot* sl = ok ? &w.slots[h.slot] : nullptr;
  // A connection closed since (its slot free, or reused: another generation),
  // or one with no query out: nowhere to write it.
  if (!sl || !sl->in_use || sl->generation != h.generation || sl->forwarded <= sl->n_answers) {
    drop(c, drop_reason::dns_tcp_answer_gone);
    rte_pktmbuf_free(m);
    return;
  }
  rte_pktmbuf_adj(m, sizeof h);
  sl->answers[sl->n_answers++] = m;
  serve(w, h.slot, t, now_ns, c);
}

void tcp_sweep(tcp_worker& w, uint64_t now_ns, lcore_counters& c) {
  if (now_ns < w.next_sweep_ns || w.n_active == 0) return;
  // A quarter of the timeout between sweeps: a connection lives at most
  // 1.25 timeouts idle, and the slots are walked a few times per timeout.
  w.next_sweep_ns = now_ns + std::max<uint64_t>(w.idle_ns / 4, 1000000);
  for (uint32_t i = 0; i < w.max_conns; ++i) {
    tcp_slot& sl = w.slots[i];
    // Waiting on the forwarder: as long as every upstream may take, and a margin.
    uint64_t limit = sl.forwarded ? std::max(w.idle_ns, w.forward_wait_ns) : w.idle_ns;
    if (!sl.in_use || now_ns - sl.last_ns < limit) continue;
    tcp_close(*w.stack, sl.conn);  // a FIN, or a RST when a partial query is unread
    release(w, i);
    c.dns.tcp_idle_closed++;
  }
}

}  // namespace kgw::dns
