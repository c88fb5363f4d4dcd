// The stack's counters: one per state entered, one per event of note and one
// per reason a segment was dropped. A plain struct of uint64 with one writer
// (the lcore that owns the stack), read as it is by whoever reports.
#pragma once

#include <cstdint>

#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

#define KGW_TCP_DROPS(X)                                                              \
  X(not_tcp, "not a TCP segment for the stack (no L4 header, fragment, other protocol)") \
  X(bad_checksum, "TCP checksum wrong (or the NIC said so)")                         \
  X(bad_header, "TCP header longer than the segment or not in the first mbuf")       \
  X(bad_options, "TCP option with an impossible length")                             \
  X(bad_flags, "flag combination no TCP sends (SYN with RST or FIN, no ACK in a synchronized state)") \
  X(no_listener, "no connection and no listener: answered with RST")                 \
  X(listen_not_syn, "a segment to a listener that is neither SYN nor ACK")           \
  X(listen_rst, "RST to a listener (ignored)")                                       \
  X(table_full, "SYN while the connection table is full and cookies are off")        \
  X(backlog_full, "SYN beyond the backlog with cookies off")                         \
  X(cookie_invalid, "ACK to a listener, while cookies are in use, that is not a valid cookie (no RST)") \
  X(syn_sent_bad_ack, "SYN-SENT: ACK of something never sent")                       \
  X(syn_sent_no_syn, "SYN-SENT: segment without SYN")                                \
  X(paws, "timestamp older than TS.Recent (PAWS, RFC 7323 section 5)")               \
  X(out_of_window, "sequence number outside the receive window: answered with ACK")  \
  X(rst_out_of_window, "RST outside the window (silently dropped, RFC 5961 section 3.2)") \
  X(rst_challenged, "RST in the window but not at RCV.NXT: challenge ACK (RFC 5961 section 3.2)") \
  X(syn_challenged, "SYN in a synchronized state: challenge ACK (RFC 5961 section 4.2)") \
  X(ack_unsent, "ACK of data never sent: answered with ACK")                         \
  X(ack_too_old, "ACK below SND.UNA - MAX.SND.WND: challenge ACK (RFC 5961 section 5.2)") \
  X(syn_received_bad_ack, "SYN-RECEIVED: unacceptable ACK, answered with RST")       \
  X(ooo_full, "out-of-order segment beyond max_ooo_segments")                        \
  X(data_after_fin, "data beyond the peer's FIN or in a state that takes none")      \
  X(chain_full, "SYN or cookie ACK whose connection-table chain is at its bound (hash flooding)") \
  X(tx_ring_full, "a segment to send found the TX ring full")                        \
  X(no_mbuf, "the mempool was empty")

enum class tcp_drop : uint8_t {
#define KGW_TCP_DROP_ENUM(name, text) name,
  KGW_TCP_DROPS(KGW_TCP_DROP_ENUM)
#undef KGW_TCP_DROP_ENUM
      count
};
inline constexpr unsigned tcp_drop_count = static_cast<unsigned>(tcp_drop::count);
const char* tcp_drop_name(tcp_drop d);
const char* tcp_drop_description(tcp_drop d);

#define KGW_TCP_EVENTS(X)                                                              \
  X(segments_in, "segments received (checksum good)")                                \
  X(segments_out, "segments queued for transmission")                                \
  X(bytes_in, "payload bytes delivered in order")                                    \
  X(bytes_out, "payload bytes sent, retransmissions included")                       \
  X(active_opens, "tcp_connect calls that sent a SYN")                               \
  X(passive_opens, "SYNs that created a SYN-RECEIVED connection")                    \
  X(accepted, "connections established from a listener")                             \
  X(connected, "active opens established")                                           \
  X(cookies_sent, "SYN-ACKs carrying a SYN cookie")                                  \
  X(cookies_accepted, "connections established from a SYN cookie")                   \
  X(resets_sent, "RST segments sent")                                                \
  X(resets_received, "connections ended by an acceptable RST")                       \
  X(challenge_acks, "challenge ACKs sent (RFC 5961)")                                \
  X(rto_expired, "retransmission timeouts")                                          \
  X(fast_retransmits, "fast retransmits on three duplicate ACKs (RFC 5681 3.2)")     \
  X(partial_ack_retransmits, "retransmits on a NewReno partial ACK (RFC 6582 3.2)")  \
  X(sack_retransmits, "retransmits of a hole the scoreboard reports")                \
  X(retransmitted_segments, "data segments sent again")                              \
  X(dup_acks, "duplicate ACKs received (RFC 5681 section 2)")                        \
  X(ooo_segments, "segments queued out of order")                                    \
  X(dup_segments, "segments entirely already received")                              \
  X(persist_probes, "zero-window probes sent")                                       \
  X(keepalive_probes, "keep-alive probes sent")                                      \
  X(delayed_acks, "ACKs sent by the delayed-ACK timer")                              \
  X(owed_acks_carried, "ACKs due in a poll loop carried by a data or FIN segment")   \
  X(owed_acks_sent, "ACKs due in a poll loop sent alone at its end")                 \
  X(timeouts, "connections given up after too many retransmissions or probes")       \
  X(time_wait_reused, "TIME-WAIT connections replaced by a new SYN (RFC 6191)")      \
  X(time_wait_recycled, "TIME-WAIT connections ended early by max_time_wait")        \
  X(syn_received_dropped, "SYN-RECEIVED connections given up (no ACK)")             \
  X(fin_wait_2_expired, "closed connections given up in FIN-WAIT-2")

struct tcp_counters {
#define KGW_TCP_EVENT_FIELD(name, text) uint64_t name;
  KGW_TCP_EVENTS(KGW_TCP_EVENT_FIELD)
#undef KGW_TCP_EVENT_FIELD
  uint64_t entered[tcp_state_count];  // transitions into each state
  uint64_t drops[tcp_drop_count];

  uint64_t drop(tcp_drop d) const { return drops[static_cast<unsigned>(d)]; }
  uint64_t in_state(tcp_state s) const { return entered[static_cast<unsigned>(s)]; }
};

}  // namespace kgw::tcp
