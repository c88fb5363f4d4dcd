// TLS on a worker's TCP stack: a layer between the stack's connections and
// the service that reads and writes plaintext (the echo service of
// ingress.tls_echo_port now, the HTTP proxy on https_port next). It mirrors
// the stack's API so that a service moves onto TLS by calling tls_* where it
// called tcp_*:
//
//   tls_refresh(w, current_set);            // once per poll loop, before the stack's events
//   tcp_poll_events -> tls_on_tcp_event(w, ev)   for connections of a TLS listener
//   n = tls_poll_events(w, ev, max);        // the service's events, same bits as the stack's
//   ... tls_recv / tls_send / tls_send_space / tls_shutdown / tls_close / tls_abort ...
//   tcp_drain_tx                            // ciphertext leaves as any segment does
//
// The stack's events of a TLS connection are the layer's: it runs the
// handshake, decrypts what arrives and sends what it encrypts. The service
// sees a connection from ev_accepted, which here means the handshake is
// complete; ev_readable when plaintext waits; ev_writable when send space
// freed; ev_peer_closed when the client's close_notify or FIN came (no more
// plaintext after what tls_recv still gives); ev_closed, ev_reset and
// ev_timeout as the stack reports them. A connection whose handshake fails
// never reaches the service: the alert goes out and the layer closes it.
//
// Ownership: tls_recv returns a chain of plaintext mbufs from the worker's
// pool, the caller's from then on. tls_send takes the caller's chain on
// success (0) and frees it once encrypted; on error the caller keeps it.
// Connection ids are the stack's (tcp_info, tcp_set_tag/tcp_tag work on
// them); every id the service got must be released by tls_close or
// tls_abort, which close the TCP connection too.
//
// Handshakes cost tens of microseconds (hundreds with RSA keys): the layer
// spends at most `handshake_budget` cycles per poll loop on them (at least
// one step), and puts the rest off, in order, to the next loops, so that the
// worker's forwarding does not stall behind a burst of handshakes.
//
// Per connection: its session (OpenSSL's SSL, about 6 KiB idle with its
// buffers released; the `buffered_max` most recently active connections
// keep theirs, about 34 KiB more) and up to 16 KiB of decrypted plaintext
// waiting for the service, besides the stack's buffers. Nothing is locked; OpenSSL allocates
// from the heap (per handshake and record buffers), the layer itself does not.
#pragma once

#include <cstdint>
#include <string_view>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/l7/tcp/mbuf_queue.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tls/tls_session.h"

struct rte_mbuf;
struct rte_mempool;

namespace kgw::tls {

// One TLS connection, by its TCB index.
struct tls_conn {
  tcp::tcp_conn_id id;
  session s;
  tcp::mbuf_queue plain;   // decrypted, waiting for tls_recv
  uint16_t pending = 0;    // events for the service (tcp_event_kind bits)
  uint16_t listener = 0;
  uint8_t state = 0;       // tls_stream.cc: st_*
  bool peer_fin = false;   // the stack said ev_peer_closed
  bool tls_eof = false;    // the client's close_notify came
  bool told_closed = false;  // the service got ev_peer_closed
  uint8_t shut = 0;        // tls_shutdown: 1 our FIN waits for the close_notify to go out, 2 sent
  uint32_t ev_prev, ev_next, hs_prev, hs_next;  // the event and deferred-handshake lists
  uint32_t buf_prev, buf_next;                  // the connections keeping their record buffers
};

struct tls_stream_worker {
  tcp::tcp_stack* stack = nullptr;
  rte_mempool* pool = nullptr;
  tls_conn* conns = nullptr;     // by TCB index
  uint32_t capacity = 0;         // the stack's max_connections
  uint8_t* scratch = nullptr;    // 16 KiB: plaintext gathered into whole records
  const context_set* const* current_slot = nullptr;  // the runtime's (tls_runtime)
  const context_set* current = nullptr;              // as loaded this loop
  uint64_t handshake_budget = 0;  // TSC cycles per poll loop
  uint64_t spent = 0;             // this loop
  uint32_t ev_head, ev_tail, hs_head, hs_tail;  // list ends (no_index: empty)
  tls_lcore_counters* counters = nullptr;
  // How many connections keep OpenSSL's record buffers (about 34 KiB each)
  // between records: the most recently active ones. The others give them
  // back, so that idle connections cost their session only. 0: every
  // connection gives them back whenever they drain (an allocation and a
  // free per record each way). Set after tls_stream_init.
  // counters->buffered of them keep them now, counters->buffers_released
  // counts the connections pushed out.
  uint32_t buffered_max = 256;
  uint32_t buf_head, buf_tail;     // least recently active first
};

// Allocates the per-connection state on `socket`; `current` is where the
// contexts to use are published (read at every tls_refresh). False when
// memory is short.
bool tls_stream_init(tls_stream_worker& w, tcp::tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket,
                     const context_set* const* current, uint64_t handshake_budget_cycles,
                     tls_lcore_counters* counters);
// Frees every session and the memory (the stack's connections stay).
void tls_stream_release(tls_stream_worker& w);

// Once per poll loop, before the stack's events: the contexts of this loop,
// the handshake budget, and the handshakes put off by earlier loops.
void tls_refresh(tls_stream_worker& w);
// A stack event of a connection of a TLS listener (ev_accepted opens it).
void tls_on_tcp_event(tls_stream_worker& w, const tcp::tcp_event& ev);
// Up to `max` events for the service, one per connection.
uint16_t tls_poll_events(tls_stream_worker& w, tcp::tcp_event* ev, uint16_t max);

// The service's calls; the same contracts as the stack's namesakes.
rte_mbuf* tls_recv(tls_stream_worker& w, tcp::tcp_conn_id c, uint32_t max_bytes = UINT32_MAX);
uint32_t tls_recv_ready(const tls_stream_worker& w, tcp::tcp_conn_id c);
// 0 (the chain is taken), -ENOBUFS (wait for ev_writable), -EPIPE (after
// tls_shutdown, a close_notify we sent, or a failed session), -ENOTCONN.
int tls_send(tls_stream_worker& w, tcp::tcp_conn_id c, rte_mbuf* chain);
uint32_t tls_send_space(const tls_stream_worker& w, tcp::tcp_conn_id c);
// close_notify, then our FIN once it is out.
int tls_shutdown(tls_stream_worker& w, tcp::tcp_conn_id c);
int tls_close(tls_stream_worker& w, tcp::tcp_conn_id c);
int tls_abort(tls_stream_worker& w, tcp::tcp_conn_id c);
// The client has finished: close_notify or FIN (what tls_recv gives is the rest).
bool tls_peer_closed(const tls_stream_worker& w, tcp::tcp_conn_id c);

// What the handshake settled, for the service (421 checks, X-Forwarded-Proto,
// logs).
struct tls_conn_info {
  uint16_t version = 0;      // 0x0303 TLS 1.2, 0x0304 TLS 1.3
  bool resumed = false;
  sni_pick picked = sni_pick::none;
  char server_name[256] = {};  // as the client sent it ("" = no SNI)
  char alpn[16] = {};
};
bool tls_info(const tls_stream_worker& w, tcp::tcp_conn_id c, tls_conn_info& out);
// Whether the certificate this connection's handshake selected covers
// `host` (a request's Host, port stripped): its DNS names by the one-label
// wildcard rule. The proxy answers 421 when it does not.
bool tls_host_covered(const tls_stream_worker& w, tcp::tcp_conn_id c, std::string_view host);

}  // namespace kgw::tls
