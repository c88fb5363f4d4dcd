// kgw's userspace TCP: one share-nothing stack per worker lcore, no locks, no
// syscalls, no clock of its own. The worker's poll loop drives it:
//
//   tcp_advance(s, now_ns);                 // timers, once per loop
//   tcp_input(s, pkts, meta, n);            // received segments (parsed by parse_burst)
//   n_ev = tcp_poll_events(s, ev, max);     // accepted, readable, ... per connection
//   ... tcp_recv / tcp_send / tcp_shutdown / tcp_close on those connections ...
//   n_tx = tcp_drain_tx(s, pkts, meta, max);  // segments to route and transmit
//
// Segments leave as mbufs holding 14 reserved Ethernet bytes (the route stage
// writes them), an IPv4 or IPv6 header and the TCP header with every checksum
// computed; their pkt_meta says where the layers are. Payload is referenced,
// not copied, wherever it is larger than a few hundred bytes (see docs/tcp.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "pipelines/common/net_types.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/l7/tcp/tcp_config.h"
#include "pipelines/l7/tcp/tcp_counters.h"

struct rte_mbuf;
struct rte_mempool;

namespace kgw::tcp {

struct tcp_stack;

// A connection as the application knows it. Valid from the event that hands
// it out (accepted) or from tcp_connect until tcp_close or tcp_abort; a stale
// id (its slot reused since) is refused by every call.
struct tcp_conn_id {
  uint32_t index = no_index;
  uint32_t gen = 0;
  bool valid() const { return index != no_index; }
  bool operator==(const tcp_conn_id&) const = default;
};

// What happened to a connection since the last tcp_poll_events. One event per
// connection carries every kind that happened, in this bit order.
enum tcp_event_kind : uint16_t {
  ev_accepted = 1 << 0,     // a listener's connection is established: the id is the application's
  ev_connected = 1 << 1,    // tcp_connect's handshake completed
  ev_readable = 1 << 2,     // in-order data waits for tcp_recv
  ev_writable = 1 << 3,     // acknowledged data freed send-buffer space
  ev_peer_closed = 1 << 4,  // the peer's FIN: no more data will come (after what tcp_recv still gives)
  ev_closed = 1 << 5,       // both directions finished in order (CLOSED or TIME-WAIT)
  ev_reset = 1 << 6,        // the peer reset the connection (or refused tcp_connect)
  ev_timeout = 1 << 7,      // retransmissions or keep-alive probes went unanswered; a RST was sent
};

struct tcp_event {
  tcp_conn_id conn;
  uint16_t kinds = 0;     // tcp_event_kind bits
  uint16_t listener = 0;  // for ev_accepted: the listener's id
};

// Creates a stack whose memory (TCBs, table, timer wheel, TX ring) comes from
// rte_zmalloc on `socket`; mbufs for output come from `pool`. now_ns is the
// caller's clock at creation. nullptr if the memory cannot be had or the
// config is impossible (zero capacities, timer_slots not a power of two).
tcp_stack* tcp_stack_create(const tcp_config& cfg, rte_mempool* pool, int socket, uint64_t now_ns);
// The bytes tcp_stack_create reserves for `cfg` (before allocator overhead),
// and its share per connection (TCB, free list entry, timer node and hash
// buckets; the buckets' count is rounded up to a power of two).
size_t tcp_stack_memory_size(const tcp_config& cfg);
size_t tcp_connection_bytes(const tcp_config& cfg);
// Frees every mbuf the stack holds (queues, TX ring) and its memory.
void tcp_stack_destroy(tcp_stack* s);

// Accepts connections to addr:port (addr with every byte zero: any address of
// its family). Returns the listener id, or -1 (table full, already listening).
int tcp_listen(tcp_stack& s, const ip_addr& addr, uint16_t port);
void tcp_unlisten(tcp_stack& s, int listener);

// Active open. The source port is the first in [port_lo, port_hi] (from a
// keyed-hash starting point, RFC 6056 algorithm 3) that no connection uses and
// that `port_ok` (when given) accepts, so that a worker can choose ports whose
// RSS hash lands on its own queue.
struct tcp_connect_args {
  ip_addr local;
  ip_addr remote;
  uint16_t remote_port = 0;
  uint16_t port_lo = 32768;
  uint16_t port_hi = 60999;
  bool (*port_ok)(void* ctx, const ip_addr& local, uint16_t port, const ip_addr& remote, uint16_t remote_port) = nullptr;
  void* ctx = nullptr;
};
// The connection's id (a SYN is queued), or an invalid id: no free port, table
// full, families differ.
tcp_conn_id tcp_connect(tcp_stack& s, const tcp_connect_args& a);

// Queues the chain for sending, taking ownership of it (no copy). All or
// nothing: returns 0, or -ENOBUFS when it does not fit in the send buffer now
// (wait for ev_writable), -EMSGSIZE when it never could, -EPIPE after
// tcp_shutdown or a reset, -ENOTCONN for a stale id. On error the caller keeps
// the chain.
int tcp_send(tcp_stack& s, tcp_conn_id c, rte_mbuf* chain);
// tcp_send and tcp_shutdown at once: the FIN rides on the chain's last
// segment instead of following alone (one packet less to end an exchange).
int tcp_send_last(tcp_stack& s, tcp_conn_id c, rte_mbuf* chain);
// Bytes tcp_send would accept now.
uint32_t tcp_send_space(const tcp_stack& s, tcp_conn_id c);
// Up to max_bytes of in-order payload as one mbuf chain (the received mbufs
// themselves), or nullptr when none is waiting. Reading opens the window.
rte_mbuf* tcp_recv(tcp_stack& s, tcp_conn_id c, uint32_t max_bytes = UINT32_MAX);
uint32_t tcp_recv_ready(const tcp_stack& s, tcp_conn_id c);
// Half-close: our FIN follows the data already queued.
int tcp_shutdown(tcp_stack& s, tcp_conn_id c);
// Releases the id. The connection finishes on its own (FIN after the queued
// data, TIME-WAIT); unread received data turns the close into a reset
// (RFC 2525 section 2.17), as Linux does.
int tcp_close(tcp_stack& s, tcp_conn_id c);
// Releases the id and resets the connection (RFC 9293 3.10.5 ABORT).
int tcp_abort(tcp_stack& s, tcp_conn_id c);

// Drives the timers: call once per poll loop with a clock that never goes back.
void tcp_advance(tcp_stack& s, uint64_t now_ns);
// Segments received: parsed by parse_burst (pkt_meta with l3/l4 offsets),
// addressed to us. The stack keeps the mbufs whose payload it queues and
// frees the rest; the caller must not touch any of them afterwards.
void tcp_input(tcp_stack& s, rte_mbuf* const* pkts, const pkt_meta* meta, uint16_t n);
// Moves up to max segments to send (the caller owns them now). meta[i].l3_off
// is 14, l3 and l4 offsets and lengths are set and v is verdict::tx.
// Call it once per poll loop, after the application has answered its events:
// what the application sent in the loop (data, FINs) leaves then, in as few
// segments as it fits in, with the ACKs the loop's input owes (carried by
// that output where it can be: a request's ACK rides on its answer).
uint16_t tcp_drain_tx(tcp_stack& s, rte_mbuf** pkts, pkt_meta* meta, uint16_t max);
uint32_t tcp_tx_pending(const tcp_stack& s);
uint16_t tcp_poll_events(tcp_stack& s, tcp_event* ev, uint16_t max);

// A word the application keeps with a connection (0 until set): with several
// services on one stack, which one an event is for.
void tcp_set_tag(tcp_stack& s, tcp_conn_id c, uint32_t tag);
uint32_t tcp_tag(const tcp_stack& s, tcp_conn_id c);  // 0 for a stale id
// The connection's state; closed for a stale id.
tcp_state tcp_conn_state(const tcp_stack& s, tcp_conn_id c);

// Introspection (tests, the CLI).
struct tcp_conn_info {
  tcp_state state = tcp_state::closed;
  tcp_tuple tuple;
  uint32_t snd_una = 0, snd_nxt = 0, snd_wnd = 0, rcv_nxt = 0, rcv_wnd = 0;
  uint32_t cwnd = 0, ssthresh = 0, mss = 0, srtt_us = 0, rto_us = 0;
  uint32_t iss = 0, irs = 0;
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool ts_ok = false, sack_ok = false, in_recovery = false;
  uint32_t send_queued = 0, recv_queued = 0, ooo_segments = 0;
};
bool tcp_info(const tcp_stack& s, tcp_conn_id c, tcp_conn_info& out);
const tcp_counters& tcp_stack_counters(const tcp_stack& s);
uint32_t tcp_connections(const tcp_stack& s);       // TCBs in use
uint32_t tcp_time_wait_count(const tcp_stack& s);
// The TCB index of a tuple, for tests: no_index when none.
uint32_t tcp_lookup(const tcp_stack& s, const tcp_tuple& t);

}  // namespace kgw::tcp
