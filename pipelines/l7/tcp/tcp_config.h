// What a tcp_stack is built with: capacities (all memory is reserved at
// creation), buffer limits, timer constants and the options it offers. Plain
// data; the defaults follow the RFCs or, where they leave room, Linux.
#pragma once

#include <cstdint>

namespace kgw::tcp {

struct tcp_config {
  // Capacities. Connections include SYN-RECEIVED and TIME-WAIT ones.
  uint32_t max_connections = 1024;
  uint32_t max_listeners = 16;
  // TIME-WAIT connections beyond this are recycled oldest first (the peer is
  // still protected by PAWS or by RFC 6191's sequence check on reuse).
  uint32_t max_time_wait = 256;
  // SYN-RECEIVED connections per listener; beyond it SYNs are answered with a
  // SYN cookie (RFC 4987 section 3.6) and keep no state.
  uint32_t syn_backlog = 128;
  bool syn_cookies = true;
  uint32_t tx_ring_size = 1024;  // segments waiting for tcp_drain_tx

  // Per-connection buffers, in payload bytes: the receive buffer is the most
  // the window ever offers, the send buffer the most tcp_send queues.
  uint32_t recv_buffer = 256 * 1024;
  uint32_t send_buffer = 256 * 1024;
  // Out-of-order segments held per connection (each holds an mbuf).
  uint32_t max_ooo_segments = 64;

  // The MSS offered and used never exceeds mtu - IP header - 20 (RFC 9293
  // section 3.7.1; an MSS clamp towards what the path carries).
  uint16_t mtu = 1500;
  uint32_t initial_cwnd_segments = 10;  // RFC 6928

  // Options offered on SYNs and accepted from peers.
  bool window_scaling = true;  // RFC 7323 section 2
  bool timestamps = true;      // RFC 7323 section 3
  bool sack = true;            // RFC 2018

  // Retransmission (RFC 6298). RFC 6298 (2.4) asks for a 1 s minimum RTO;
  // Linux uses 200 ms, as most of the Internet now does.
  uint64_t rto_initial_ns = 1'000'000'000;
  uint64_t rto_min_ns = 200'000'000;
  uint64_t rto_max_ns = 60'000'000'000;
  uint32_t max_retransmits = 15;        // data: then the connection times out
  uint32_t max_syn_retransmits = 6;     // an active open gives up after these
  uint32_t max_synack_retransmits = 5;  // a SYN-RECEIVED connection is dropped after these

  // TIME-WAIT lasts 2 * MSL (RFC 9293 section 3.4.2).
  uint64_t msl_ns = 30'000'000'000;
  // A connection the application closed waits this long in FIN-WAIT-2.
  uint64_t fin_wait_2_ns = 60'000'000'000;

  // Delayed ACK (RFC 1122 section 4.2.3.2, RFC 5681 section 4.2): every
  // `delack_segments`-th full segment is acknowledged at once, others within
  // delack_ns.
  uint64_t delack_ns = 40'000'000;
  uint32_t delack_segments = 2;
  // Quick ACKs, as Linux: the first text of a connection, and text after a
  // silence longer than the RTO, is ACKed at once for up to this many
  // segments (fewer when the window holds fewer). A sender whose Nagle holds
  // its second write for the ACK of its first (a response's body after its
  // head) would otherwise wait delack_ns on every fresh connection.
  uint32_t quick_acks = 16;

  // Keep-alive (RFC 1122 section 4.2.3.6): off unless asked for.
  bool keepalive = false;
  uint64_t keepalive_idle_ns = 7200'000'000'000;
  uint64_t keepalive_interval_ns = 75'000'000'000;
  uint32_t keepalive_probes = 9;

  // The timer wheel: one slot per tick; deadlines further away than
  // slots * tick go round again.
  uint64_t timer_tick_ns = 1'000'000;
  uint32_t timer_slots = 4096;  // a power of two

  // The NIC computes the TCP checksum of what the stack sends (every port
  // the segments may leave through has the TX offload tcp-cksum): segments
  // carry the pseudo-header sum and RTE_MBUF_F_TX_TCP_CKSUM instead of the
  // checksum. Received segments the NIC marked RTE_MBUF_F_RX_L4_CKSUM_GOOD
  // or _BAD are never summed again, whatever this says.
  bool tx_checksum_offload = false;

  // Secrets (ISNs, cookies, timestamp offsets, table hash) derive from it:
  // the same seed and the same inputs give the same segments.
  uint64_t seed = 0;
};

}  // namespace kgw::tcp
