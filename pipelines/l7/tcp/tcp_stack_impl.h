// The stack's insides, shared by its source files (not part of the API): the
// struct behind tcp_stack and the functions one file offers the others.
#pragma once

#include <cstdint>

#include "pipelines/common/pkt_meta.h"
#include "pipelines/l7/tcp/seq.h"
#include "pipelines/l7/tcp/siphash.h"
#include "pipelines/l7/tcp/tcb.h"
#include "pipelines/l7/tcp/tcp_options.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tcp/timer_wheel.h"
#include "pipelines/l7/tcp/tuple_hash.h"

struct rte_mbuf;
struct rte_mempool;

namespace kgw::tcp {

struct tcp_listener {
  bool used = false;
  bool any = false;  // every address of the family
  uint8_t family = 0;
  uint16_t port = 0;
  uint8_t addr[16] = {};
  uint32_t syn_received = 0;  // its connections in SYN-RECEIVED: the backlog
};

// RFC 6056 algorithm 3's input: the destination an active open goes to.
struct port_hash_key {
  uint8_t l[16], r[16];
  uint16_t rport;
};
static_assert(sizeof(port_hash_key) == 34);  // compared as bytes: no padding

// Connections with output due at the drain (tcb::ack_owed, send_due) per
// poll loop; beyond this many, output leaves at once.
inline constexpr uint32_t flush_max = 256;

struct tcp_stack {
  tcp_config cfg;
  rte_mempool* pool = nullptr;
  uint8_t rcv_wscale = 0;  // the shift we offer: the least that lets recv_buffer be advertised
  uint64_t now_ns = 0;

  tcb* tcbs = nullptr;
  uint32_t capacity = 0;
  uint32_t* free_list = nullptr;  // a stack of free TCB indices
  uint32_t n_free = 0;
  uint32_t* buckets = nullptr;    // connection table: tuple hash -> first TCB of the chain
  uint32_t bucket_mask = 0;
  tcp_listener* listeners = nullptr;

  timer_wheel wheel;
  uint32_t* due = nullptr;        // scratch for wheel_expire

  rte_mbuf** tx_pkts = nullptr;   // a FIFO ring of segments to send
  pkt_meta* tx_meta = nullptr;
  uint32_t tx_head = 0, tx_count = 0;

  // The connections with output due at this loop's drain, by index and
  // generation (a slot freed and reused since is skipped).
  struct flush_entry {
    uint32_t index, gen;
  };
  flush_entry flush[flush_max];
  uint32_t n_flush = 0;

  event_list events;          // TCBs with events pending
  output_list blocked;        // TCBs the full TX ring stopped
  time_wait_list time_wait;   // oldest first
  uint32_t n_used = 0;

  sip_key isn_key, cookie_key, port_key;
  tuple_hash_key table_key;
  uint32_t port_counter = 0;  // RFC 6056 algorithm 3's increment
  // The last destination's keyed-hash offset: a proxy opens most of its
  // connections to the same few backends, one SipHash saved on each.
  port_hash_key last_port_key{};
  uint32_t last_port_offset = 0;
  bool last_port_valid = false;
  uint64_t cookie_sent_ns = 0;  // the last SYN cookie sent (0: never)

  tcp_counters counters{};
};

// A received segment, headers parsed, from the receiver's side (the tuple's
// local end is the segment's destination).
struct tcp_segment {
  tcp_tuple tuple;
  uint32_t seq = 0, ack = 0;
  uint16_t wnd = 0;
  uint8_t flags = 0;
  uint32_t len = 0;          // payload bytes
  uint32_t payload_off = 0;  // from the start of the frame (first mbuf's data)
  rte_mbuf* m = nullptr;
  tcp_opts opts;
};

inline void count(tcp_stack& s, tcp_drop d) { s.counters.drops[static_cast<unsigned>(d)]++; }
inline uint32_t index_of(const tcp_stack& s, const tcb& t) { return static_cast<uint32_t>(&t - s.tcbs); }
inline uint32_t ts_now(const tcp_stack& s, const tcb& t) {
  return static_cast<uint32_t>(s.now_ns / 1'000'000) + t.ts_offset;  // a 1 ms clock (RFC 7323 5.4)
}

// tcp_conn_table.cc: the tuple -> TCB index hash.
// A chain longer than this is refused: only a peer that learned the hash key
// could make one (with a random key and at most one connection per bucket on
// average, 16 in one chain happens with probability ~1e-14 per bucket).
inline constexpr uint32_t max_chain_length = 16;
uint32_t table_lookup(const tcp_stack& s, const tcp_tuple& t);
// False (nothing inserted) when the tuple's chain is at max_chain_length.
bool table_insert(tcp_stack& s, uint32_t idx);
void table_remove(tcp_stack& s, uint32_t idx);

// tcp_stack.cc: TCB life, states and events.
// nullptr when no TCB is free or the tuple's table chain is full.
tcb* tcb_alloc(tcp_stack& s, const tcp_tuple& t);
void set_state(tcp_stack& s, tcb& t, tcp_state st);
void post_event(tcp_stack& s, tcb& t, uint16_t kinds);
// The connection is over: CLOSED, out of the table, queues and timers gone.
// The application (if it holds the id) learns `kinds`; otherwise the TCB is
// freed at once.
void tcb_finish(tcp_stack& s, tcb& t, uint16_t kinds);
void enter_time_wait(tcp_stack& s, tcb& t);
// Fills the negotiated parameters of a new connection from the peer's SYN
// options: MSS, window scale, timestamps, SACK; ISN and timestamp offset.
void tcb_init_from_syn(tcp_stack& s, tcb& t, const tcp_opts& peer, uint32_t iss, uint32_t ts_offset);
uint16_t mss_clamp(const tcp_stack& s, uint8_t family);
inline uint8_t our_wscale(const tcp_stack& s) { return s.rcv_wscale; }
// A connection's secrets, from one SipHash of its tuple (the two halves of a
// PRF's output are independent: the ISN on the wire tells nothing of the
// offset): F of the ISN (RFC 6528) and the timestamp clock's offset
// (RFC 7323 section 7.1).
struct conn_secrets {
  uint32_t isn_f = 0, ts_offset = 0;
};
conn_secrets make_secrets(const tcp_stack& s, const tcp_tuple& t);
// RFC 6528 section 3: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), M a 4-microsecond timer (the caller's clock).
inline uint32_t make_isn(const tcp_stack& s, const conn_secrets& c) {
  return static_cast<uint32_t>(s.now_ns / 4000) + c.isn_f;
}
const tcp_listener* listener_for(const tcp_stack& s, const tcp_tuple& t);
// A connection needs tcp_output again once the TX ring drains.
void want_output(tcp_stack& s, tcb& t);

// tcp_output.cc: everything that leaves.
void tcp_output(tcp_stack& s, tcb& t);
// An ACK this poll loop: the application may answer first, and its segment
// carries it (one segment instead of two); tcp_drain_tx sends the rest.
// With the flush list full it sets ack_now instead: the caller's output
// sends it.
void owe_ack(tcp_stack& s, tcb& t);
// The application queued data or a FIN: output at the drain, with whatever
// else it queues in this loop.
void output_at_drain(tcp_stack& s, tcb& t);
// Everything due at the drain (tcp_drain_tx). Not tcp_advance: the worker
// runs it after tcp_input and before the application's events, which must
// come first.
void flush_output(tcp_stack& s);
// One data (or FIN) segment at `seq` of `len` bytes, without moving snd_nxt:
// retransmissions and probes.
bool send_data_at(tcp_stack& s, tcb& t, uint32_t seq, uint32_t len, bool is_rexmit);
bool send_ack(tcp_stack& s, tcb& t);
// The connection's output due at the drain, now: at the drain, and before
// another of its segments is taken, so that what was due leaves first, as
// it would have without the wait (one ACK per segment still).
inline void settle_output(tcp_stack& s, tcb& t) {
  if (t.send_due) {
    t.send_due = false;
    tcp_output(s, t);
  }
  if (t.ack_owed) {
    t.ack_owed = false;
    // A connection that ended meanwhile (a RST, a timeout) owes nothing; an
    // ACK a full TX ring refuses is lost, as any would be.
    if (t.in_use && is_synchronized(t.state) && send_ack(s, t)) s.counters.owed_acks_sent++;
  }
}
void send_challenge_ack(tcp_stack& s, tcb& t);
void send_rst(tcp_stack& s, tcb& t);  // <SEQ=SND.NXT><CTL=RST>
// RFC 9293 3.10.7.1: the RST for a segment that no connection takes.
void send_rst_reply(tcp_stack& s, const tcp_segment& seg);
// A SYN-ACK for a connection that keeps no TCB (a SYN cookie).
void send_cookie_syn_ack(tcp_stack& s, const tcp_segment& syn, uint32_t iss, const tcp_opts& ours, uint16_t wnd);
uint32_t rcv_window(const tcp_stack& s, const tcb& t);  // what we would offer now (bytes)
// Counts a payload-carrying segment's data towards the send MSS: the MSS less
// the options every segment carries.
uint32_t payload_mss(const tcb& t);
inline uint32_t snd_data_seq(const tcb& t) {
  // The send queue starts after our SYN: at snd_una once the SYN is
  // acknowledged. (Not seq_gt(snd_una, iss): after 2^31 bytes that turns
  // false again, and the queue's start with it.)
  return t.syn_acked ? t.snd_una : t.iss + 1;
}

// Retransmits the next segment recovery wants: the first hole the SACK
// scoreboard shows at or after rexmit_nxt, else the first unacknowledged one.
bool retransmit_next(tcp_stack& s, tcb& t);
// Queues our FIN after the data queued so far (no more can be queued).
inline void queue_fin(tcb& t) {
  t.fin_queued = true;
  t.snd_fin = snd_data_seq(t) + t.sndq.bytes;
}

// tcp_timers.cc
void arm_rto(tcp_stack& s, tcb& t);   // (re)start the retransmission timer (RFC 6298 5.1/5.3)
void arm_persist(tcp_stack& s, tcb& t);
void stop_rexmit(tcp_stack& s, tcb& t);
void arm_delack(tcp_stack& s, tcb& t);
void arm_life(tcp_stack& s, tcb& t, life_kind k, uint64_t at);
void stop_timers(tcp_stack& s, tcb& t);
void reschedule(tcp_stack& s, tcb& t);  // the wheel entry follows the earliest deadline
void touch_keepalive(tcp_stack& s, tcb& t);

// rtt.cc (RFC 6298)
void rtt_init(const tcp_config& c, tcb& t);
void rtt_sample(const tcp_config& c, tcb& t, uint64_t rtt_us);
uint64_t rto_ns(const tcp_config& c, const tcb& t);  // with the backoff applied

// congestion.cc (RFC 5681, RFC 6582)
void cc_init(const tcp_config& c, tcb& t);
void cc_on_ack(tcp_stack& s, tcb& t, uint32_t acked, uint32_t ack);
void cc_on_dupack(tcp_stack& s, tcb& t);
void cc_on_rto(tcb& t);
uint32_t flight_size(const tcb& t);

// sack.cc (RFC 2018)
void sack_note_received(tcb& t, uint32_t seq, uint32_t end);  // the newest block first
void sack_update_report(tcb& t);                              // drop blocks below rcv_nxt
void scoreboard_add(tcb& t, const sack_block* b, unsigned n);
void scoreboard_prune(tcb& t);  // after snd_una moves
bool scoreboard_covers(const tcb& t, uint32_t seq, uint32_t& end);
// The first sequence at or after `from` below the highest SACKed byte that the
// peer has not SACKed, with the length of that hole (0: none).
uint32_t scoreboard_next_hole(const tcb& t, uint32_t from, uint32_t& len);
uint32_t scoreboard_sacked_bytes(const tcb& t);

}  // namespace kgw::tcp
