// Everything the stack sends: segments are built into fresh mbufs (headers)
// that reference the send queue's payload, with every checksum computed (the
// TCP one left to the NIC with cfg.tx_checksum_offload), and queued on the TX
// ring for tcp_drain_tx.
#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/protocols.h"
#include "pipelines/l7/tcp/syn_cookie.h"
#include "pipelines/l7/tcp/tcp_checksum.h"
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

constexpr uint32_t eth_len = 14;
constexpr uint8_t ttl = 64;
// Payloads up to this size are copied into the header mbuf: cheaper than an
// indirect mbuf (allocation, two atomic reference updates, one more segment
// for the NIC); larger ones are referenced.
constexpr uint32_t payload_copy_max = 512;

struct seg_out {
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;
  const tcp_opts* opts = nullptr;  // written straight into the header
  bool syn_opts = false;           // as a SYN's (write_syn_options), else write_options
  rte_mbuf* src = nullptr;  // the payload: from byte src_off of this queued segment on
  uint32_t src_off = 0;
  uint32_t len = 0;
};

// Copies or references the payload's `len` bytes after the headers.
bool attach_payload(tcp_stack& s, rte_mbuf* m, const seg_out& o) {
  uint32_t in = o.src_off;
  rte_mbuf* src = o.src;
  uint32_t left = o.len;
  if (o.len <= payload_copy_max && rte_pktmbuf_tailroom(m) >= o.len) {
    uint8_t* dst = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(o.len)));
    for (; src && left; src = src->next, in = 0) {
      uint32_t n = src->data_len - in < left ? src->data_len - in : left;
      std::memcpy(dst, rte_pktmbuf_mtod_offset(src, const uint8_t*, in), n);
      dst += n;
      left -= n;
    }
    return left == 0;
  }
  rte_mbuf* last = m;
  for (; src && left; src = src->next, in = 0) {
    uint32_t n = src->data_len - in < left ? src->data_len - in : left;
    rte_mbuf* piece = rte_pktmbuf_alloc(s.pool);
    if (!piece) return false;
    rte_pktmbuf_attach(piece, src);
    piece->data_off = static_cast<uint16_t>(piece->data_off + in);
    piece->data_len = static_cast<uint16_t>(n);
    piece->pkt_len = n;
    last->next = piece;
    last = piece;
    m->nb_segs++;
    m->pkt_len += n;
    left -= n;
  }
  return left == 0;
}

void write_ip(uint8_t* ip, const tcp_tuple& t, uint16_t addr_sum, uint32_t l4_len) {
  if (t.family == 4) {
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(20 + l4_len));
    store_be16(ip + 4, 0);       // RFC 6864: the ID of an atomic datagram is not used
    store_be16(ip + 6, 0x4000);  // DF: path MTU discovery (RFC 1191)
    ip[8] = ttl;
    ip[9] = ipproto_tcp;
    std::memcpy(ip + 12, t.laddr, 4);
    std::memcpy(ip + 16, t.raddr, 4);
    // The header's 16-bit words: 0x4500, the length, 0 (ID), 0x4000, TTL and
    // protocol, the checksum, the addresses (summed once per connection).
    uint32_t sum = uint32_t{addr_sum} + 0x4500 + 20 + l4_len + 0x4000 + (uint32_t{ttl} << 8 | ipproto_tcp);
    store_be16(ip + 10, csum_finish(sum));
  } else {
    store_be32(ip, 0x60000000u);
    store_be16(ip + 4, static_cast<uint16_t>(l4_len));
    ip[6] = ipproto_tcp;
    ip[7] = ttl;
    std::memcpy(ip + 8, t.laddr, 16);
    std::memcpy(ip + 24, t.raddr, 16);
  }
}

// `addr_sum`: tuple_addr_sum(t), kept in the TCB.
bool emit(tcp_stack& s, const tcp_tuple& t, uint16_t addr_sum, const seg_out& o) {
  if (s.tx_count == s.cfg.tx_ring_size) {
    count(s, tcp_drop::tx_ring_full);
    return false;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(s.pool);
  if (!m) {
    count(s, tcp_drop::no_mbuf);
    return false;
  }
  const uint32_t ip_len = t.family == 4 ? 20 : 40;
  if (rte_pktmbuf_tailroom(m) < eth_len + ip_len + 60) {  // the longest header
    rte_pktmbuf_free(m);
    count(s, tcp_drop::no_mbuf);
    return false;
  }
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* th = frame + eth_len + ip_len;
  const unsigned opt_len =
      !o.opts ? 0 : o.syn_opts ? write_syn_options(th + 20, *o.opts) : write_options(th + 20, *o.opts);
  const uint32_t th_len = 20 + opt_len;
  const uint32_t l4_len = th_len + o.len;
  m->data_len = static_cast<uint16_t>(eth_len + ip_len + th_len);  // a fresh mbuf: one segment
  m->pkt_len = m->data_len;
  // Ethernet: the route stage writes the addresses.
  std::memset(frame, 0, 12);
  store_be16(frame + 12, t.family == 4 ? ethertype_ipv4 : ethertype_ipv6);
  write_ip(frame + eth_len, t, addr_sum, l4_len);
  store_be16(th, t.lport);
  store_be16(th + 2, t.rport);
  store_be32(th + 4, o.seq);
  store_be32(th + 8, o.ack);
  th[12] = static_cast<uint8_t>((th_len / 4) << 4);
  th[13] = o.flags;
  store_be16(th + 14, o.wnd);
  store_be16(th + 16, 0);
  store_be16(th + 18, 0);
  if (o.len && !attach_payload(s, m, o)) {
    rte_pktmbuf_free(m);
    count(s, tcp_drop::no_mbuf);
    return false;
  }
  uint32_t sum = tcp_pseudo_sum(addr_sum, l4_len);
  if (s.cfg.tx_checksum_offload) {
    // What DPDK asks of RTE_MBUF_F_TX_TCP_CKSUM: the pseudo-header sum, not
    // complemented, in the field (rte_ipv4_phdr_cksum without TSO).
    store_be16(th + 16, csum_fold(sum));
    m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM | (t.family == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
  } else {
    sum += chain_sum16(m, eth_len + ip_len, l4_len);
    store_be16(th + 16, csum_finish(sum));
  }

  m->l2_len = eth_len;
  m->l3_len = ip_len;
  m->l4_len = th_len;
  uint32_t slot = s.tx_head + s.tx_count;
  if (slot >= s.cfg.tx_ring_size) slot -= s.cfg.tx_ring_size;
  // Only emit writes the ring's metadata, and every segment writes the same
  // fields: the others keep the pkt_meta{} they were created with.
  pkt_meta& pm = s.tx_meta[slot];
  pm.l3_off = eth_len;
  pm.l4_off = static_cast<uint16_t>(eth_len + ip_len);
  pm.l3_len = static_cast<uint16_t>(ip_len + l4_len);
  pm.l4_len = static_cast<uint16_t>(l4_len);
  pm.l3 = t.family == 4 ? l3_kind::ipv4 : l3_kind::ipv6;
  pm.l4_proto = ipproto_tcp;
  pm.tcp_flags = o.flags;
  pm.sport = t.lport;
  pm.dport = t.rport;
  pm.v = verdict::tx;
  s.tx_pkts[slot] = m;
  s.tx_count++;
  s.counters.segments_out++;
  s.counters.bytes_out += o.len;
  if (o.flags & tcp_rst) s.counters.resets_sent++;
  return true;
}

unsigned sack_blocks_to_send(const tcb& t) {
  if (!t.sack_ok) return 0;
  // 40 option bytes: 4 blocks, or 3 beside a timestamp (RFC 2018 section 3).
  unsigned room = t.ts_ok ? 3 : 4;
  return t.n_sack_report < room ? t.n_sack_report : room;
}

// Our window for the header, scaled (RFC 7323 2.3: never on a SYN), and the
// right edge it advertises.
uint16_t window_field(const tcp_stack& s, tcb& t, bool syn) {
  uint32_t w = rcv_window(s, t);
  uint32_t field;
  if (syn) {
    field = w > 65535 ? 65535 : w;
  } else {
    uint32_t edge = seq_gt(t.rcv_adv, t.rcv_nxt) ? t.rcv_adv - t.rcv_nxt : 0;
    field = w >> t.rcv_wscale;
    if ((field << t.rcv_wscale) < edge) field++;  // rounding must not shrink the window
    if (field > 65535) field = 65535;
  }
  // Before the peer's SYN (our own SYN) there is no receive sequence yet.
  if (t.state == tcp_state::syn_sent) return static_cast<uint16_t>(field);
  uint32_t right = t.rcv_nxt + (syn ? field : field << t.rcv_wscale);
  if (seq_gt(right, t.rcv_adv)) t.rcv_adv = right;
  return static_cast<uint16_t>(field);
}

// Options of a segment of an established connection.
void conn_options(const tcp_stack& s, const tcb& t, tcp_opts& o) {
  o.has_ts = t.ts_ok;
  o.tsval = ts_now(s, t);
  o.tsecr = t.ts_recent;
  o.n_sack = static_cast<uint8_t>(sack_blocks_to_send(t));
  for (unsigned i = 0; i < o.n_sack; ++i) o.sack[i] = t.sack_report[i];
}

// What our SYN or SYN-ACK offers: on a SYN-ACK only what the SYN offered
// (RFC 7323 2.2, 3.2; RFC 2018 section 2).
void syn_options(const tcp_stack& s, const tcb& t, bool is_synack, tcp_opts& o) {
  o.has_mss = true;
  o.mss = mss_clamp(s, t.tuple.family);
  o.has_wscale = is_synack ? t.ws_ok : s.cfg.window_scaling;
  o.wscale = t.rcv_wscale;
  o.sack_permitted = is_synack ? t.sack_ok : s.cfg.sack;
  o.has_ts = is_synack ? t.ts_ok : s.cfg.timestamps;
  o.tsval = ts_now(s, t);
  o.tsecr = is_synack ? t.ts_recent : 0;
}

// The send queue's segment holding sequence number `seq`, and the offset in
// it. The cursor is sound while it starts past the queue's first byte: only
// ACKs remove bytes, from the front, so a segment starting after the first
// unacknowledged byte is neither freed nor trimmed (the head's start moves
// when it is trimmed, which is why the head itself is never trusted).
rte_mbuf* seek_send_queue(tcb& t, uint32_t seq, uint32_t& in) {
  const uint32_t first = snd_data_seq(t);
  rte_mbuf* from = t.sndq.head;
  uint32_t from_seq = first;
  if (t.snd_cursor && seq_gt(t.snd_cursor_seq, first) && seq_lt(t.snd_cursor_seq, first + t.sndq.bytes) &&
      seq_leq(t.snd_cursor_seq, seq)) {
    from = t.snd_cursor;
    from_seq = t.snd_cursor_seq;
  }
  rte_mbuf* at = queue_seek_from(from, seq - from_seq, in);
  if (at) {
    t.snd_cursor = at;
    t.snd_cursor_seq = seq - in;
  }
  return at;
}

// One segment of connection t; the ACK field always carries rcv_nxt (except
// on our first SYN), which acknowledges everything received so far.
bool send_segment(tcp_stack& s, tcb& t, uint32_t seq, uint32_t len, uint8_t flags) {
  tcp_opts opts;
  seg_out o;
  bool syn = flags & tcp_syn;
  if (syn)
    syn_options(s, t, flags & tcp_ack, opts);
  else
    conn_options(s, t, opts);
  o.opts = &opts;
  o.syn_opts = syn;
  o.seq = seq;
  o.flags = flags;
  o.ack = (flags & tcp_ack) ? t.rcv_nxt : 0;
  o.wnd = window_field(s, t, syn);
  if (len) {
    o.src = seek_send_queue(t, seq, o.src_off);
    o.len = len;
  }
  if (!emit(s, t.tuple, t.addr_sum, o)) return false;
  if (flags & tcp_ack) {
    // The ACK went out: no delayed one is owed any more.
    t.last_ack_sent = t.rcv_nxt;
    t.ack_now = false;
    if (t.ack_owed) {
      t.ack_owed = false;
      s.counters.owed_acks_carried++;
    }
    t.delack_segs = 0;
    if (t.delack_at) {
      t.delack_at = 0;
      reschedule(s, t);
    }
  }
  return true;
}

// Payload a segment can carry: the MSS less the options it carries.
uint32_t segment_room(const tcb& t) {
  uint32_t opt = options_length(t.ts_ok, sack_blocks_to_send(t));
  return t.mss > opt ? t.mss - opt : 1;
}

void send_syn(tcp_stack& s, tcb& t) {
  uint8_t flags = t.state == tcp_state::syn_sent ? tcp_syn : tcp_syn | tcp_ack;
  if (!send_segment(s, t, t.iss, 0, flags)) {
    want_output(s, t);
    return;
  }
  t.snd_nxt = t.iss + 1;
  t.snd_max = seq_max(t.snd_max, t.snd_nxt);
  // Time the handshake unless this SYN is a retransmission (Karn).
  t.rtt_timing = t.backoff == 0;
  t.rtt_seq = t.iss;
  t.rtt_start_ns = s.now_ns;
  if (t.rexmit != rexmit_kind::rto) arm_rto(s, t);
}

void send_data(tcp_stack& s, tcb& t) {
  bool sent = false;
  for (;;) {
    const uint32_t data_seq = snd_data_seq(t);
    const uint32_t off = t.snd_nxt - data_seq;
    const uint32_t avail = seq_lt(t.snd_nxt, data_seq + t.sndq.bytes) ? t.sndq.bytes - off : 0;
    if (avail == 0 && !t.fin_queued) break;  // nothing to send (a FIN may be, with no data)
    const bool rexmit = seq_lt(t.snd_nxt, t.snd_max);
    uint32_t sacked_end;
    if (rexmit && scoreboard_covers(t, t.snd_nxt, sacked_end)) {
      t.snd_nxt = seq_min(sacked_end, t.snd_max);  // the peer holds it: skip
      continue;
    }
    const uint32_t wnd = t.snd_wnd < t.cwnd ? t.snd_wnd : t.cwnd;
    const uint32_t flight = t.snd_nxt - t.snd_una;
    const uint32_t usable = wnd > flight ? wnd - flight : 0;
    const uint32_t room = segment_room(t);
    uint32_t len = avail < usable ? avail : usable;
    if (len > room) len = room;
    if (rexmit) {
      uint32_t hole_len;
      scoreboard_next_hole(t, t.snd_nxt, hole_len);
      if (hole_len && len > hole_len) len = hole_len;  // stop where the SACKed data starts
    }
    const bool fin = t.fin_queued && off + len == t.sndq.bytes && seq_leq(t.snd_nxt, t.snd_fin);
    if (len == 0 && !fin) break;
    // Sender SWS avoidance (RFC 9293 3.8.6.2.1), without Nagle: a short
    // segment goes out only if it ends the queued data, or nothing is in
    // flight, or it is at least half the largest window the peer offered.
    if (len < room && len < avail && flight > 0 && len < t.max_snd_wnd / 2) break;
    uint8_t flags = tcp_ack;
    if (fin) flags |= tcp_fin;
    if (len && off + len == t.sndq.bytes) flags |= tcp_psh;  // PSH: the end of what was queued
    if (!send_segment(s, t, t.snd_nxt, len, flags)) {
      want_output(s, t);
      break;
    }
    sent = true;
    if (rexmit) {
      s.counters.retransmitted_segments++;
      t.rtt_timing = false;  // Karn's rule (RFC 6298 section 3)
    } else if (!t.ts_ok && !t.rtt_timing && len) {
      t.rtt_timing = true;
      t.rtt_seq = t.snd_nxt;
      t.rtt_start_ns = s.now_ns;
    }
    t.snd_nxt += len + (fin ? 1 : 0);
    if (fin) t.fin_sent = true;
    t.snd_max = seq_max(t.snd_max, t.snd_nxt);
    // RFC 6298 5.1: the timer runs while data is outstanding.
    if (t.rexmit != rexmit_kind::rto) arm_rto(s, t);
  }
  if (!sent && t.ack_now) send_ack(s, t);
  // RFC 9293 3.8.6.1: a zero window with data waiting and nothing in flight
  // is probed by the persist timer.
  uint32_t off = t.snd_nxt - snd_data_seq(t);
  bool waiting = seq_lt(t.snd_nxt, snd_data_seq(t) + t.sndq.bytes) && off < t.sndq.bytes;
  if (t.snd_wnd == 0 && waiting && t.snd_una == t.snd_nxt && t.rexmit == rexmit_kind::none) arm_persist(s, t);
}

}  // namespace

uint32_t payload_mss(const tcb& t) {
  uint32_t opt = t.ts_ok ? 12 : 0;
  return t.mss > opt ? t.mss - opt : 1;
}

uint32_t rcv_window(const tcp_stack& s, const tcb& t) {
  uint32_t used = t.rcvq.bytes + t.ooo.bytes;
  uint32_t free = s.cfg.recv_buffer > used ? s.cfg.recv_buffer - used : 0;
  uint32_t edge = seq_gt(t.rcv_adv, t.rcv_nxt) ? t.rcv_adv - t.rcv_nxt : 0;
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): the right edge moves only
  // by at least min(half the buffer, one MSS); it never moves left.
  uint32_t step = s.cfg.recv_buffer / 2 < t.mss ? s.cfg.recv_buffer / 2 : t.mss;
  uint32_t w = free > edge && free - edge >= step ? free : edge;
  uint64_t cap = uint64_t{65535} << t.rcv_wscale;
  return w > cap ? static_cast<uint32_t>(cap) : w;
}

void tcp_output(tcp_stack& s, tcb& t) {
  if (!t.in_use) return;
  switch (t.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
      if (t.snd_nxt == t.iss) send_syn(s, t);  // first sent, or again after a timeout
      return;
    case tcp_state::closed:
    case tcp_state::listen:
      return;
    case tcp_state::time_wait:
      if (t.ack_now) send_ack(s, t);
      return;
    default:
      send_data(s, t);
  }
}

bool send_data_at(tcp_stack& s, tcb& t, uint32_t seq, uint32_t len, bool is_rexmit) {
  bool fin = t.fin_sent && seq + len == t.snd_fin;
  uint8_t flags = tcp_ack | (fin ? tcp_fin : 0);
  if (!send_segment(s, t, seq, len, flags)) return false;
  if (is_rexmit) {
    s.counters.retransmitted_segments++;
    t.rtt_timing = false;  // Karn
  }
  t.snd_max = seq_max(t.snd_max, seq + len + (fin ? 1 : 0));
  return true;
}

bool retransmit_next(tcp_stack& s, tcb& t) {
  uint32_t from = seq_max(t.rexmit_nxt, t.snd_una);
  uint32_t hole = t.snd_una, len = 0;
  if (t.sack_ok && t.n_scoreboard) {
    hole = scoreboard_next_hole(t, from, len);
    if (len == 0) return false;  // nothing below the highest SACKed byte is missing
  } else {
    hole = t.snd_una;
    len = t.snd_max - hole;
  }
  uint32_t data_end = snd_data_seq(t) + t.sndq.bytes;
  uint32_t data = seq_lt(hole, data_end) ? data_end - hole : 0;
  if (len > data) len = data;
  uint32_t room = segment_room(t);
  if (len > room) len = room;
  bool fin = t.fin_sent && hole + len == t.snd_fin;
  if (len == 0 && !fin) return false;
  if (hole != t.snd_una && t.sack_ok) s.counters.sack_retransmits++;
  if (!send_data_at(s, t, hole, len, true)) return false;
  t.rexmit_nxt = hole + len + (fin ? 1 : 0);
  return true;
}

namespace {

// False when the list is full: the caller outputs at once.
bool list_for_flush(tcp_stack& s, tcb& t) {
  if (t.flush_listed) return true;
  if (s.n_flush == flush_max) return false;
  s.flush[s.n_flush++] = {index_of(s, t), t.gen};
  t.flush_listed = true;
  return true;
}

}  // namespace

void owe_ack(tcp_stack& s, tcb& t) {
  if (t.ack_owed) return;
  if (!list_for_flush(s, t)) {
    t.ack_now = true;  // no room to wait: with this output
    return;
  }
  t.ack_owed = true;
}

void output_at_drain(tcp_stack& s, tcb& t) {
  if (!list_for_flush(s, t)) {
    tcp_output(s, t);
    return;
  }
  t.send_due = true;
}

void flush_output(tcp_stack& s) {
  for (uint32_t k = 0; k < s.n_flush; ++k) {
    tcb& t = s.tcbs[s.flush[k].index];
    if (t.gen != s.flush[k].gen) continue;  // the slot moved on
    t.flush_listed = false;
    settle_output(s, t);
  }
  s.n_flush = 0;
}

bool send_ack(tcp_stack& s, tcb& t) {
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, except that after a timeout pulled
  // snd_nxt back the peer may already expect more: a pure ACK below its
  // RCV.NXT would be refused unread (and answered by an ACK just as
  // refused). The highest sequence sent is always acceptable (as in BSD).
  return send_segment(s, t, t.snd_max, 0, tcp_ack);
}

void send_challenge_ack(tcp_stack& s, tcb& t) {
  // RFC 5961 sections 3.2, 4.2, 5.2: a legitimate peer that lost state
  // answers it with a RST carrying the exact sequence number.
  s.counters.challenge_acks++;
  send_ack(s, t);
}

void send_rst(tcp_stack& s, tcb& t) {
  // The highest sequence sent: after a timeout snd_nxt may lag what the peer
  // already expects, and a RST below RCV.NXT would be ignored.
  seg_out o;
  o.seq = t.snd_max;
  o.ack = t.rcv_nxt;
  o.flags = tcp_rst | tcp_ack;
  emit(s, t.tuple, t.addr_sum, o);
}

void send_rst_reply(tcp_stack& s, const tcp_segment& seg) {
  // RFC 9293 3.10.7.1: if the ACK bit is set <SEQ=SEG.ACK><CTL=RST>, else
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count in SEG.LEN).
  if (seg.flags & tcp_rst) return;
  seg_out o;
  if (seg.flags & tcp_ack) {
    o.seq = seg.ack;
    o.flags = tcp_rst;
  } else {
    o.ack = seg.seq + seg.len + ((seg.flags & tcp_syn) ? 1 : 0) + ((seg.flags & tcp_fin) ? 1 : 0);
    o.flags = tcp_rst | tcp_ack;
  }
  emit(s, seg.tuple, tuple_addr_sum(seg.tuple), o);
}

void send_cookie_syn_ack(tcp_stack& s, const tcp_segment& syn, uint32_t iss, const tcp_opts& ours, uint16_t wnd) {
  seg_out o;
  o.seq = iss;
  o.ack = syn.seq + 1;
  o.flags = tcp_syn | tcp_ack;
  o.wnd = wnd;
  o.opts = &ours;
  o.syn_opts = true;
  if (emit(s, syn.tuple, tuple_addr_sum(syn.tuple), o)) s.counters.cookies_sent++;
}

}  // namespace kgw::tcp
