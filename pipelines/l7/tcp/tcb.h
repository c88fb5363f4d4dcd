// The transmission control block (RFC 9293 section 3.3.1): everything the
// stack knows of one connection, as one plain struct in a preallocated array.
// Sequence variables keep the RFC's names. Queues are mbufs linked through
// their `next` pointers, so buffers cost the TCB a few pointers only.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/l7/tcp/mbuf_queue.h"

namespace kgw::tcp {

enum class tcp_state : uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
  count
};
inline constexpr unsigned tcp_state_count = static_cast<unsigned>(tcp_state::count);
const char* tcp_state_name(tcp_state s);

// RFC 9293 section 3.3.2: the states in which both sides' ISNs are known.
inline bool is_synchronized(tcp_state s) { return s >= tcp_state::established; }

// Local and remote ends; addresses in network order (IPv4 in the first 4
// bytes, the rest zero), ports in host order.
struct tcp_tuple {
  uint8_t family = 0;  // 4 or 6
  uint8_t pad = 0;
  uint16_t lport = 0;
  uint16_t rport = 0;
  uint8_t laddr[16] = {};
  uint8_t raddr[16] = {};
  // As raw bytes (there is no padding): the defaulted operator compares the
  // arrays byte by byte, and every arriving segment pays it.
  bool operator==(const tcp_tuple& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
// Hashed as raw bytes: no padding may hide in it.
static_assert(sizeof(tcp_tuple) == 38);

inline constexpr uint32_t no_index = 0xffffffffu;

struct sack_block {
  uint32_t start = 0;  // first sequence number of the block
  uint32_t end = 0;    // one past the last
};
inline constexpr unsigned max_sack_blocks = 4;  // what a segment can carry (RFC 2018 section 3)
inline constexpr unsigned scoreboard_blocks = 6;

// Which of the retransmission-timer uses is armed (they exclude each other:
// RFC 9293 section 3.8.6.1 runs the persist timer only while nothing is
// outstanding).
enum class rexmit_kind : uint8_t { none, rto, persist };
// The long timer: what happens when `life_at` comes.
enum class life_kind : uint8_t { none, keepalive, fin_wait_2, time_wait };

struct tcb {
  tcp_tuple tuple;
  tcp_state state = tcp_state::closed;
  rexmit_kind rexmit = rexmit_kind::none;
  life_kind life = life_kind::none;
  uint8_t backoff = 0;       // RTO doublings since the last new ACK (RFC 6298 5.5)
  uint8_t probes = 0;        // unanswered persist or keep-alive probes

  // Flags.
  bool in_use = false;
  bool app_owned = false;    // the application holds the id (until tcp_close/abort)
  bool passive = false;      // created from a listener
  bool fin_queued = false;   // the application shut the sending side
  bool fin_sent = false;     // snd_max covers our FIN
  bool ack_now = false;      // an ACK must go out with the next output
  // Output due at this poll loop's tcp_drain_tx (the stack's flush list):
  // an ACK, unless a segment of ours (the application's answer, its FIN)
  // carries it first; the application's data or FIN, so that what it sends
  // in one loop leaves in as few segments as it fits in.
  bool ack_owed = false;
  bool send_due = false;
  bool flush_listed = false;  // on the flush list (for an ACK, a send or both)
  bool ws_ok = false;        // RFC 7323 window scaling negotiated
  bool ts_ok = false;        // RFC 7323 timestamps negotiated
  bool sack_ok = false;      // RFC 2018 SACK-permitted exchanged
  bool in_recovery = false;  // NewReno fast recovery (RFC 6582)
  bool rtt_timing = false;   // rtt_seq is timed (no timestamps)
  bool ooo_fin = false;      // a FIN arrived out of order at ooo_fin_seq
  bool on_event_list = false;
  bool on_output_list = false;
  bool on_tw_list = false;
  bool syn_acked = false;    // our SYN is acknowledged: the send queue starts at snd_una
  uint8_t snd_wscale = 0;    // the peer's shift: applied to windows it sends
  uint8_t rcv_wscale = 0;    // ours: applied to windows we send
  uint8_t n_sack_report = 0;
  uint8_t n_scoreboard = 0;
  uint8_t dupacks = 0;
  uint8_t quick_acks = 0;    // in-order segments still to be ACKed at once (tcp_input.cc: quick ACKs)
  uint16_t events = 0;       // tcp_event_kind bits not yet handed out
  uint16_t listener = 0;     // for passive opens: which listener's backlog counts it
  uint16_t mss = 536;        // most payload per segment, before options (RFC 9293 3.7.1)
  uint16_t delack_segs = 0;  // in-order segments not yet acknowledged
  uint16_t addr_sum = 0;     // tuple_addr_sum(tuple): every header checksum we send starts from it
  uint32_t gen = 0;          // bumps at every reuse of the slot: stale ids fail
  uint32_t tag = 0;          // the application's: which of its services owns the connection

  // Send sequence space (RFC 9293 3.3.1). snd_max: the highest sent, which
  // snd_nxt falls back from after a timeout.
  uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0;
  uint32_t snd_wnd = 0, snd_wl1 = 0, snd_wl2 = 0, max_snd_wnd = 0;
  // Receive sequence space. rcv_adv: the right edge last advertised.
  uint32_t irs = 0, rcv_nxt = 0, rcv_adv = 0;
  uint32_t ooo_fin_seq = 0;
  uint32_t snd_fin = 0;  // our FIN's sequence number, once fin_queued

  // Congestion control (RFC 5681, RFC 6582), bytes.
  uint32_t cwnd = 0, ssthresh = 0, recover = 0;
  uint32_t rexmit_nxt = 0;  // in recovery: where the next hole search starts

  // RTT estimation (RFC 6298), microseconds.
  uint32_t srtt_us = 0, rttvar_us = 0, rto_us = 0;
  uint32_t rtt_seq = 0;
  uint64_t rtt_start_ns = 0;

  // Timestamps (RFC 7323). ts_offset: our clock's per-connection offset.
  uint32_t ts_recent = 0, ts_offset = 0, last_ack_sent = 0;
  uint64_t ts_recent_at_ns = 0;  // when ts_recent was taken (24-day validity, 5.5)
  uint64_t last_rx_ns = 0;       // keep-alive idle time counts from here
  uint64_t last_text_ns = 0;     // when text last arrived in order (0: never)

  // Timers (absolute ns; 0 = off).
  uint64_t rexmit_at = 0, delack_at = 0, life_at = 0;

  sack_block sack_report[max_sack_blocks];  // receiver: blocks last reported, newest first
  sack_block scoreboard[scoreboard_blocks];  // sender: blocks the peer reported, sorted

  mbuf_queue sndq;     // unacknowledged and unsent data, from the first unacknowledged byte
  // Where the last segment's payload started in sndq: the next one starts
  // there or after, so the search need not walk the queue from its head.
  // Trusted only while it lies past the head's first byte (tcp_output.cc).
  rte_mbuf* snd_cursor = nullptr;
  uint32_t snd_cursor_seq = 0;  // the sequence number of snd_cursor's first byte
  mbuf_queue rcvq;     // in-order data the application has not read
  mbuf_queue ooo;      // out-of-order segments by sequence (each segment's seq in hash.usr)

  // Intrusive list links (indices into the TCB array).
  uint32_t hash_next = no_index;
  uint32_t event_prev = no_index, event_next = no_index;
  uint32_t output_prev = no_index, output_next = no_index;
  uint32_t tw_prev = no_index, tw_next = no_index;
};

// A doubly linked list of TCBs through one pair of their link fields: O(1)
// insertion and removal, no memory of its own.
template <uint32_t tcb::*Prev, uint32_t tcb::*Next>
struct tcb_list {
  uint32_t head = no_index, tail = no_index;
  uint32_t size = 0;

  void push_back(tcb* a, uint32_t i) {
    a[i].*Prev = tail;
    a[i].*Next = no_index;
    if (tail != no_index)
      a[tail].*Next = i;
    else
      head = i;
    tail = i;
    size++;
  }
  void remove(tcb* a, uint32_t i) {
    uint32_t p = a[i].*Prev, n = a[i].*Next;
    if (p != no_index)
      a[p].*Next = n;
    else
      head = n;
    if (n != no_index)
      a[n].*Prev = p;
    else
      tail = p;
    a[i].*Prev = a[i].*Next = no_index;
    size--;
  }
  uint32_t pop_front(tcb* a) {
    uint32_t i = head;
    if (i != no_index) remove(a, i);
    return i;
  }
};
using event_list = tcb_list<&tcb::event_prev, &tcb::event_next>;
using output_list = tcb_list<&tcb::output_prev, &tcb::output_next>;
using time_wait_list = tcb_list<&tcb::tw_prev, &tcb::tw_next>;

}  // namespace kgw::tcp
