// DNS over TCP (RFC 1035 4.2.2, RFC 7766) on the worker's TCP stack: port 53
// of the dns.addresses. Each message has a two-byte length before it; a
// connection carries any number of queries, pipelined, answered in order by
// the same responder as UDP (dns_answer.h) without the UDP size limit. A
// connection without a complete query for dns.tcp_idle_timeout is closed;
// beyond dns.tcp_max_connections per worker a new one is reset.
//
// The connection's slot lives in its tag (tcp_set_tag): the low byte is the
// worker's application number for DNS, the rest the slot. A query is read
// out of the stack once it is whole, copied into the worker's one scratch
// buffer, answered there, and the response copied into mbufs from the
// worker's pool; a response that does not fit the send buffer's free room
// yet leaves its query held in the slot (tcp_held_query) until the client
// acknowledges. No allocation but those mbufs, no lock, no syscall.
//
// With dns.upstreams, a query for a name outside the zones goes to control's
// forwarder (dns_tcp_punt.h: the slot, its generation and the query, in an
// mbuf on the punt ring); its answer comes back on the DNS reply ring and is
// written into the connection when it arrives: after answers to later
// queries of the same connection, which RFC 7766 7 allows (each response
// carries its query's ID). Up to tcp_max_forwarded of a connection's queries
// may be out at once; the next query is read once one is answered. A
// connection waiting for an answer is closed only after forward_wait_ns
// without one.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/dns/dns_table.h"
#include "pipelines/l7/tcp/tcp_stack.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace kgw::dns {

// A query read whole but not answered yet, because its response did not fit
// the send buffer's free room: held until the client acknowledges what it
// was sent (ev_writable), then answered again. Queries up to this size are
// read as soon as they are whole; a longer one only once the send buffer has
// room for any response.
inline constexpr uint32_t tcp_held_query = 512;
// A connection's forwarded queries out at once (their answers held in the slot).
inline constexpr uint32_t tcp_max_forwarded = 4;

struct tcp_slot {
  tcp::tcp_conn_id conn;
  uint64_t last_ns = 0;    // accepted, its last query answered, or forwarded
  uint32_t want = 0;       // the message length read from its prefix; 0: the prefix comes next
  uint32_t next_free = 0;  // free list, slot + 1 (0: the end)
  uint32_t generation = 0; // bumped at every accept: a forwarded answer names the connection it is for
  bool in_use = false;
  uint16_t held_len = 0;   // a held query's length; 0: none
  uint16_t forwarded = 0;  // queries at control's forwarder whose answers are not written yet
  uint16_t n_answers = 0;  // forwarded answers arrived, waiting for send room (their prefix included)
  rte_mbuf* answers[tcp_max_forwarded] = {};
  uint8_t held[tcp_held_query];
};

struct tcp_worker {
  tcp::tcp_stack* stack = nullptr;
  rte_mempool* pool = nullptr;
  uint32_t app_tag = 0;        // the low byte of every DNS connection's tag
  uint32_t max_conns = 0;      // dns.tcp_max_connections
  uint64_t idle_ns = 0;        // dns.tcp_idle_timeout
  uint32_t send_need = 0;      // free send buffer in which any response fits (the largest and its prefix, or the whole buffer)
  uint32_t recv_room = 0;      // the receive buffer: a longer message could never arrive whole
  uint32_t n_active = 0;
  uint32_t free_head = 0;      // slot + 1
  uint64_t next_sweep_ns = 0;
  tcp_slot* slots = nullptr;   // max_conns
  uint8_t* scratch = nullptr;  // 2 + max_tcp_message bytes: one message and its prefix
  // Forwarding (dns.upstreams): the punt ring to control; nullptr: names
  // outside the zones are REFUSED. forward_wait_ns: how long a connection
  // waits for a forwarded answer before the idle sweep may close it.
  rte_ring* punt = nullptr;
  uint64_t forward_wait_ns = 0;
};

// Sizes the memory tcp_worker_init wants (slots and scratch), for the caller
// to allocate on the worker's socket.
uint64_t tcp_worker_memory(uint32_t max_conns);
// Lays the worker out over `mem` (tcp_worker_memory bytes, 8-aligned).
void tcp_worker_init(tcp_worker& w, void* mem, tcp::tcp_stack* stack, rte_mempool* pool, uint32_t app_tag,
                     uint32_t max_conns, uint64_t idle_ns, uint32_t send_buffer, uint32_t recv_buffer);

// One event of the stack for a DNS connection (an accepted one of the DNS
// listener, or one whose tag says DNS). `t`: the table of this burst.
void tcp_on_event(tcp_worker& w, const tcp::tcp_event& ev, const table* t, uint64_t now_ns, lcore_counters& c);

// Forwarding on: queries outside the zones go to `punt`; a connection waits
// up to `forward_wait_ns` for their answers.
void tcp_worker_forward(tcp_worker& w, rte_ring* punt, uint64_t forward_wait_ns);

// An answer of control's forwarder from the DNS reply ring (dns_tcp_punt.h):
// written into its connection, or held until the send buffer has room;
// dropped (counted dns_tcp_answer_gone) when the connection has closed.
// Takes `m`.
void tcp_on_forwarded_answer(tcp_worker& w, rte_mbuf* m, const table* t, uint64_t now_ns, lcore_counters& c);

// Closes connections idle past the timeout; cheap when nothing is due.
void tcp_sweep(tcp_worker& w, uint64_t now_ns, lcore_counters& c);

}  // namespace kgw::dns
