#include "pipelines/l7/tls/tls_stream.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace kgw::tls {

namespace {

using namespace kgw::tcp;

constexpr uint32_t none = 0xffffffffu;
constexpr uint8_t st_free = 0, st_handshake = 1, st_open = 2, st_failed = 3;
constexpr uint8_t shut_none = 0, shut_pending = 1, shut_done = 2;
// Ciphertext pulled from the stack ahead of OpenSSL (two full records), and
// plaintext decrypted ahead of the service: past these the stack's window
// closes, which is the back-pressure a client that sends faster than the
// service reads needs.
constexpr uint32_t in_cap = 32 * 1024;
constexpr uint32_t plain_cap = 16 * 1024;
constexpr uint32_t record_max = 16 * 1024;

// --- the two intrusive lists, by TCB index ---------------------------------------

struct list_ref {
  uint32_t& head;
  uint32_t& tail;
  uint32_t tls_conn::*prev;
  uint32_t tls_conn::*next;
};
list_ref events(tls_stream_worker& w) { return {w.ev_head, w.ev_tail, &tls_conn::ev_prev, &tls_conn::ev_next}; }
list_ref deferred(tls_stream_worker& w) { return {w.hs_head, w.hs_tail, &tls_conn::hs_prev, &tls_conn::hs_next}; }
list_ref buffered(tls_stream_worker& w) { return {w.buf_head, w.buf_tail, &tls_conn::buf_prev, &tls_conn::buf_next}; }

bool listed(tls_stream_worker& w, list_ref l, uint32_t i) {
  return w.conns[i].*l.prev != none || l.head == i;
}

void push(tls_stream_worker& w, list_ref l, uint32_t i) {
  if (listed(w, l, i)) return;
  w.conns[i].*l.next = none;
  w.conns[i].*l.prev = l.tail;
  if (l.tail != none) w.conns[l.tail].*l.next = i;
  else l.head = i;
  l.tail = i;
}

void unlink(tls_stream_worker& w, list_ref l, uint32_t i) {
  if (!listed(w, l, i)) return;
  tls_conn& c = w.conns[i];
  if (c.*l.prev != none) w.conns[c.*l.prev].*l.next = c.*l.next;
  else l.head = c.*l.next;
  if (c.*l.next != none) w.conns[c.*l.next].*l.prev = c.*l.prev;
  else l.tail = c.*l.prev;
  c.*l.prev = c.*l.next = none;
}

uint32_t pop(tls_stream_worker& w, list_ref l) {
  uint32_t i = l.head;
  if (i != none) unlink(w, l, i);
  return i;
}

// ---------------------------------------------------------------------------------

tls_conn* conn_of(tls_stream_worker& w, tcp_conn_id id) {
  if (id.index >= w.capacity) return nullptr;
  tls_conn& c = w.conns[id.index];
  return c.state != st_free && c.id == id ? &c : nullptr;
}

const tls_conn* conn_of(const tls_stream_worker& w, tcp_conn_id id) {
  return conn_of(const_cast<tls_stream_worker&>(w), id);
}

void notify(tls_stream_worker& w, tls_conn& c, uint16_t kinds) {
  if (!kinds) return;
  c.pending |= kinds;
  push(w, events(w), c.id.index);
}

// A connection about to read or write records keeps its buffers, as the
// most recently active; past buffered_max, the least recently active one
// gives its own back (if it has a record half done, at its next turn).
void touch(tls_stream_worker& w, tls_conn& c) {
  const uint32_t i = c.id.index;
  if (w.buffered_max == 0 || w.buf_tail == i) return;
  if (listed(w, buffered(w), i)) unlink(w, buffered(w), i);
  else w.counters->buffered++;
  push(w, buffered(w), i);
  if (w.counters->buffered <= w.buffered_max) return;
  tls_conn& oldest = w.conns[pop(w, buffered(w))];
  w.counters->buffered--;
  if (session_release_buffers(oldest.s)) w.counters->buffers_released++;
}

void release(tls_stream_worker& w, tls_conn& c) {
  unlink(w, events(w), c.id.index);
  unlink(w, deferred(w), c.id.index);
  if (listed(w, buffered(w), c.id.index)) {
    unlink(w, buffered(w), c.id.index);
    w.counters->buffered--;
  }
  session_close(c.s);
  queue_free(c.plain);
  c.state = st_free;
  c.pending = 0;
  w.counters->sessions--;
}

// Sends the ciphertext OpenSSL wrote, when the stack takes all of it now;
// then our FIN if tls_shutdown asked for it.
void flush(tls_stream_worker& w, tls_conn& c) {
  if (uint32_t n = session_output_bytes(c.s)) {
    if (tcp_send_space(*w.stack, c.id) < n) return;  // ev_writable brings us back
    rte_mbuf* m = session_take_output(c.s);
    if (m && tcp_send(*w.stack, c.id, m) != 0) rte_pktmbuf_free(m);  // reset meanwhile: nothing to send to
  }
  if (c.shut == shut_pending && session_output_bytes(c.s) == 0) {
    tcp_shutdown(*w.stack, c.id);
    c.shut = shut_done;
  }
}

// Ciphertext from the stack, as far as OpenSSL's queue has room.
void pull(tls_stream_worker& w, tls_conn& c) {
  while (c.s.in.bytes < in_cap) {
    rte_mbuf* m = tcp_recv(*w.stack, c.id, in_cap - c.s.in.bytes);
    if (!m) break;
    session_input(c.s, m);
  }
}

// Ends a connection the service never saw: the alert (if any) goes out,
// then our FIN; what the client sent meanwhile is dropped first, so that
// the close is not turned into a reset ahead of the alert.
void end_handshake(tls_stream_worker& w, tls_conn& c) {
  flush(w, c);
  while (rte_mbuf* m = tcp_recv(*w.stack, c.id)) rte_pktmbuf_free(m);
  tcp_conn_id id = c.id;
  release(w, c);
  tcp_close(*w.stack, id);
}

// A session that cannot go on after the handshake: the alert goes out and
// the service is told the connection is reset.
void fail_open(tls_stream_worker& w, tls_conn& c) {
  if (c.s.pool_dry) w.counters->no_mbuf++;
  else w.counters->record_errors++;
  flush(w, c);
  c.state = st_failed;
  notify(w, c, ev_reset);
}

// Whether the client is done sending: its close_notify, or its FIN with
// every byte it sent decrypted as far as the service's buffer allowed.
void check_peer_done(tls_stream_worker& w, tls_conn& c) {
  if (c.told_closed || c.state != st_open) return;
  bool done = c.tls_eof || (c.peer_fin && tcp_recv_ready(*w.stack, c.id) == 0 && c.plain.bytes < plain_cap);
  if (!done) return;
  c.told_closed = true;
  if (!c.tls_eof) w.counters->truncated++;
  notify(w, c, ev_peer_closed);
}

// Decrypts what has arrived into `plain`, up to its cap. True when plaintext
// was added.
bool fill(tls_stream_worker& w, tls_conn& c) {
  uint32_t before = c.plain.bytes;
  if (c.state == st_open) touch(w, c);
  while (c.state == st_open && c.plain.bytes < plain_cap && !c.tls_eof) {
    pull(w, c);
    read_end end;
    rte_mbuf* m = session_read(c.s, plain_cap - c.plain.bytes, end);
    if (m) {
      w.counters->bytes_in += rte_pktmbuf_pkt_len(m);
      queue_append_chain(c.plain, m);
    }
    if (end == read_end::closed) {
      c.tls_eof = true;
      w.counters->close_notify++;
    } else if (end == read_end::failed) {
      fail_open(w, c);
    } else if (!m) {
      break;
    }
  }
  if (c.state == st_open) flush(w, c);  // post-handshake messages (KeyUpdate)
  return c.plain.bytes > before;
}

void count_failure(tls_stream_worker& w, int reason) {
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
      w.counters->failed_version++;
      break;
    case SSL_R_NO_APPLICATION_PROTOCOL:
      w.counters->failed_alpn++;
      break;
    default:
      w.counters->failed_handshake++;
  }
}

// One handshake step, if the loop's budget allows; else the connection
// waits its turn in the deferred list.
void drive(tls_stream_worker& w, tls_conn& c) {
  if (c.state != st_handshake) return;
  if (w.spent >= w.handshake_budget) {
    if (!listed(w, deferred(w), c.id.index)) w.counters->deferred++;
    push(w, deferred(w), c.id.index);
    return;
  }
  pull(w, c);
  if (c.s.in.bytes == 0) {
    if (c.peer_fin) {
      w.counters->failed_closed++;
      end_handshake(w, c);
    }
    return;  // nothing to read yet
  }
  touch(w, c);
  uint64_t t0 = rte_rdtsc();
  step r = session_handshake(c.s);
  uint64_t dt = rte_rdtsc() - t0;
  w.spent += dt;
  w.counters->handshake_cycles += dt;
  switch (r) {
    case step::again:
      flush(w, c);
      if (c.peer_fin && c.s.in.bytes == 0 && tcp_recv_ready(*w.stack, c.id) == 0) {
        w.counters->failed_closed++;
        end_handshake(w, c);
      }
      return;
    case step::failed:
      if (c.s.pool_dry) w.counters->no_mbuf++;
      else count_failure(w, c.s.last_reason);
      end_handshake(w, c);
      return;
    case step::done:
      break;
  }
  c.state = st_open;
  (session_version(c.s) == TLS1_3_VERSION ? w.counters->handshakes_tls13 : w.counters->handshakes_tls12)++;
  if (session_resumed(c.s)) w.counters->resumed++;
  switch (c.s.sni.picked) {
    case sni_pick::exact: w.counters->sni_exact++; break;
    case sni_pick::wildcard: w.counters->sni_wildcard++; break;
    default: w.counters->sni_default++; break;
  }
  flush(w, c);  // session tickets
  uint16_t k = ev_accepted | ev_writable;
  if (fill(w, c)) k |= ev_readable;  // a request in the client's Finished flight
  notify(w, c, k);
  check_peer_done(w, c);
}

}  // namespace

bool tls_stream_init(tls_stream_worker& w, tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket,
                     const context_set* const* current, uint64_t handshake_budget_cycles,
                     tls_lcore_counters* counters) {
  w = tls_stream_worker{};
  w.stack = s;
  w.pool = pool;
  w.capacity = capacity;
  w.current_slot = current;
  w.handshake_budget = handshake_budget_cycles;
  w.counters = counters;
  w.ev_head = w.ev_tail = w.hs_head = w.hs_tail = w.buf_head = w.buf_tail = none;
  w.conns = static_cast<tls_conn*>(rte_zmalloc_socket("kgw_tls_conns", sizeof(tls_conn) * capacity, 64, socket));
  w.scratch = static_cast<uint8_t*>(rte_malloc_socket("kgw_tls_scratch", record_max, 64, socket));
  if (!w.conns || !w.scratch) {
    tls_stream_release(w);
    return false;
  }
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&w.conns[i]) tls_conn{};
    w.conns[i].ev_prev = w.conns[i].ev_next = w.conns[i].hs_prev = w.conns[i].hs_next = none;
    w.conns[i].buf_prev = w.conns[i].buf_next = none;
  }
  return true;
}

void tls_stream_release(tls_stream_worker& w) {
  if (w.conns)
    for (uint32_t i = 0; i < w.capacity; ++i)
      if (w.conns[i].state != st_free) release(w, w.conns[i]);
  rte_free(w.conns);
  rte_free(w.scratch);
  w.conns = nullptr;
  w.scratch = nullptr;
}

void tls_refresh(tls_stream_worker& w) {
  w.current = w.current_slot ? __atomic_load_n(w.current_slot, __ATOMIC_ACQUIRE) : nullptr;
  w.spent = 0;
  while (w.hs_head != none && w.spent < w.handshake_budget) drive(w, w.conns[pop(w, deferred(w))]);
}

void tls_on_tcp_event(tls_stream_worker& w, const tcp_event& ev) {
  if (ev.kinds & ev_accepted) {
    if (ev.conn.index >= w.capacity || !w.current) {
      tcp_abort(*w.stack, ev.conn);
      return;
    }
    tls_conn& c = w.conns[ev.conn.index];
    if (c.state != st_free) release(w, c);  // cannot happen: the stack released that id
    c.id = ev.conn;
    c.listener = ev.listener;
    c.plain = mbuf_queue{};
    c.peer_fin = c.tls_eof = c.told_closed = false;
    c.shut = shut_none;
    if (!session_open(c.s, *w.current, &w.current, w.pool)) {
      w.counters->no_mbuf++;
      tcp_abort(*w.stack, ev.conn);
      return;
    }
    if (w.buffered_max) session_keep_buffers(c.s);
    c.state = st_handshake;
    w.counters->sessions++;
    w.counters->handshakes_started++;
  }
  tls_conn* cp = conn_of(w, ev.conn);
  if (!cp) {
    tcp_abort(*w.stack, ev.conn);
    return;
  }
  tls_conn& c = *cp;
  if (ev.kinds & (ev_reset | ev_timeout)) {
    if (c.state == st_handshake) {
      w.counters->failed_closed++;
      tcp_conn_id id = c.id;
      release(w, c);
      tcp_close(*w.stack, id);  // already reset: this gives the id back
      return;
    }
    notify(w, c, ev.kinds & (ev_reset | ev_timeout));
    return;
  }
  if (ev.kinds & ev_peer_closed) c.peer_fin = true;
  if (ev.kinds & ev_writable) flush(w, c);
  if (c.state == st_handshake) {
    drive(w, c);
    if (conn_of(w, ev.conn) && c.state == st_handshake && (ev.kinds & ev_closed)) {
      w.counters->failed_closed++;
      end_handshake(w, c);
    }
    return;
  }
  if (c.state != st_open) {  // failed: the service has its ev_reset
    if (ev.kinds & ev_closed) notify(w, c, ev_closed);
    return;
  }
  uint16_t k = 0;
  if ((ev.kinds & (ev_readable | ev_peer_closed)) && fill(w, c)) k |= ev_readable;
  if (ev.kinds & ev_writable) k |= ev_writable;
  if (ev.kinds & ev_closed) k |= ev_closed;
  notify(w, c, k);
  check_peer_done(w, c);
}

uint16_t tls_poll_events(tls_stream_worker& w, tcp_event* ev, uint16_t max) {
  uint16_t n = 0;
  while (n < max && w.ev_head != none) {
    tls_conn& c = w.conns[pop(w, events(w))];
    ev[n++] = tcp_event{c.id, c.pending, c.listener};
    c.pending = 0;
  }
  return n;
}

rte_mbuf* tls_recv(tls_stream_worker& w, tcp_conn_id id, uint32_t max_bytes) {
  tls_conn* c = conn_of(w, id);
  if (!c || c->state != st_open) return nullptr;
  rte_mbuf* m = queue_take(c->plain, max_bytes, w.pool);
  fill(w, *c);
  check_peer_done(w, *c);
  return m;
}

uint32_t tls_recv_ready(const tls_stream_worker& w, tcp_conn_id id) {
  const tls_conn* c = conn_of(w, id);
  return c ? c->plain.bytes : 0;
}

int tls_send(tls_stream_worker& w, tcp_conn_id id, rte_mbuf* chain) {
  tls_conn* c = conn_of(w, id);
  if (!c) return -ENOTCONN;
  if (c->state != st_open || c->shut != shut_none) return -EPIPE;
  uint32_t len = rte_pktmbuf_pkt_len(chain);
  if (uint64_t{ciphertext_bound(len)} + session_output_bytes(c->s) > tcp_send_space(*w.stack, id)) return -ENOBUFS;
  touch(w, *c);
  // Whole records out of the chain's segments, through the scratch buffer.
  uint32_t filled = 0;
  bool ok = true;
  for (rte_mbuf* m = chain; m && ok; m = m->next) {
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    uint32_t left = m->data_len;
    while (left && ok) {
      uint32_t n = std::min(left, record_max - filled);
      std::memcpy(w.scratch + filled, p, n);
      filled += n;
      p += n;
      left -= n;
      if (filled == record_max) {
        ok = session_write(c->s, w.scratch, filled);
        filled = 0;
      }
    }
  }
  if (ok) ok = session_write(c->s, w.scratch, filled);
  if (!ok) {
    fail_open(w, *c);
    return -EPIPE;
  }
  flush(w, *c);
  w.counters->bytes_out += len;
  rte_pktmbuf_free(chain);
  return 0;
}

uint32_t tls_send_space(const tls_stream_worker& w, tcp_conn_id id) {
  const tls_conn* c = conn_of(w, id);
  if (!c || c->state != st_open || c->shut != shut_none) return 0;
  uint32_t space = tcp_send_space(*w.stack, id);
  uint32_t out = session_output_bytes(c->s);
  if (space <= out) return 0;
  uint32_t avail = space - out;
  uint32_t overhead = (avail / record_max + 2) * 96;
  return avail > overhead ? avail - overhead : 0;
}

int tls_shutdown(tls_stream_worker& w, tcp_conn_id id) {
  tls_conn* c = conn_of(w, id);
  if (!c) return -ENOTCONN;
  if (c->shut != shut_none) return 0;
  if (c->state == st_open) session_close_notify(c->s);
  c->shut = shut_pending;
  flush(w, *c);
  return 0;
}

int tls_close(tls_stream_worker& w, tcp_conn_id id) {
  tls_conn* c = conn_of(w, id);
  if (!c) return -ENOTCONN;
  flush(w, *c);  // a close_notify still waiting for room
  release(w, *c);
  return tcp_close(*w.stack, id);
}

int tls_abort(tls_stream_worker& w, tcp_conn_id id) {
  tls_conn* c = conn_of(w, id);
  if (!c) return -ENOTCONN;
  release(w, *c);
  return tcp_abort(*w.stack, id);
}

bool tls_peer_closed(const tls_stream_worker& w, tcp_conn_id id) {
  const tls_conn* c = conn_of(w, id);
  return c && c->told_closed;
}

bool tls_info(const tls_stream_worker& w, tcp_conn_id id, tls_conn_info& out) {
  const tls_conn* c = conn_of(w, id);
  if (!c || !c->s.ssl) return false;
  out = tls_conn_info{};
  out.version = session_version(c->s);
  out.resumed = session_resumed(c->s);
  out.picked = c->s.sni.picked;
  if (const char* n = SSL_get_servername(c->s.ssl, TLSEXT_NAMETYPE_host_name))
    std::snprintf(out.server_name, sizeof out.server_name, "%s", n);
  const unsigned char* alpn = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(c->s.ssl, &alpn, &len);
  if (alpn && len < sizeof out.alpn) std::memcpy(out.alpn, alpn, len);
  return true;
}

bool tls_host_covered(const tls_stream_worker& w, tcp_conn_id id, std::string_view host) {
  const tls_conn* c = conn_of(w, id);
  if (!c || !c->s.ssl || host.empty()) return false;
  X509* cert = SSL_get_certificate(c->s.ssl);
  return cert && X509_check_host(cert, host.data(), host.size(),
                                 X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                                 nullptr) == 1;
}

}  // namespace kgw::tls
