// Segment arrival (RFC 9293 section 3.10.7): the state machine. Each step
// below names the RFC's step it implements; RFC 5961's stricter rules for
// RST, SYN and ACK replace the original ones where it says so.
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "pipelines/common/protocols.h"
#include "pipelines/l7/tcp/reassembly.h"
#include "pipelines/l7/tcp/syn_cookie.h"
#include "pipelines/l7/tcp/tcp_checksum.h"
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

constexpr uint64_t paws_idle_ns = 24ull * 24 * 3600 * 1'000'000'000;  // RFC 7323 5.5: 24 days

bool has(const tcp_segment& seg, uint8_t f) { return (seg.flags & f) != 0; }

// ---- parsing ----------------------------------------------------------------

bool checksum_ok(const rte_mbuf* m, const pkt_meta& pm, const uint8_t* src, const uint8_t* dst, uint8_t family) {
  uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD) return true;
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD) return false;
  uint32_t sum = tcp_pseudo_sum(family, src, dst, pm.l4_len);
  sum += chain_sum16(m, pm.l4_off, pm.l4_len);
  return csum_fold(sum) == 0xffff;
}

bool parse_segment(tcp_stack& s, rte_mbuf* m, const pkt_meta& pm, tcp_segment& seg) {
  if ((pm.l3 != l3_kind::ipv4 && pm.l3 != l3_kind::ipv6) || pm.l4_proto != ipproto_tcp || pm.l4_off == 0 ||
      pm.frag) {
    count(s, tcp_drop::not_tcp);
    return false;
  }
  if (pm.l4_len < 20 || uint32_t{pm.l4_off} + 20 > m->data_len || uint32_t{pm.l4_off} + pm.l4_len > m->pkt_len) {
    count(s, tcp_drop::bad_header);
    return false;
  }
  const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* ip = frame + pm.l3_off;
  const uint8_t* th = frame + pm.l4_off;
  const uint32_t doff = (th[12] >> 4) * 4u;
  if (doff < 20 || doff > pm.l4_len || pm.l4_off + doff > m->data_len) {
    count(s, tcp_drop::bad_header);
    return false;
  }
  const uint8_t family = pm.l3 == l3_kind::ipv4 ? 4 : 6;
  const uint8_t* src = family == 4 ? ip + 12 : ip + 8;
  const uint8_t* dst = family == 4 ? ip + 16 : ip + 24;
  // RFC 9293 3.1 (MUST-2/3): the checksum is verified on every segment.
  if (!checksum_ok(m, pm, src, dst, family)) {
    count(s, tcp_drop::bad_checksum);
    return false;
  }
  seg.tuple = tcp_tuple{};
  seg.tuple.family = family;
  // Constant sizes: a copy of a variable length is a call or a byte loop.
  if (family == 4) {
    std::memcpy(seg.tuple.laddr, dst, 4);
    std::memcpy(seg.tuple.raddr, src, 4);
  } else {
    std::memcpy(seg.tuple.laddr, dst, 16);
    std::memcpy(seg.tuple.raddr, src, 16);
  }
  seg.tuple.lport = load_be16(th + 2);
  seg.tuple.rport = load_be16(th);
  seg.seq = load_be32(th + 4);
  seg.ack = load_be32(th + 8);
  seg.flags = th[13];
  seg.wnd = load_be16(th + 14);
  seg.len = pm.l4_len - doff;
  seg.payload_off = pm.l4_off + doff;
  seg.m = m;
  seg.opts = tcp_opts{};
  if (!parse_tcp_options(th + 20, doff - 20, seg.opts)) {
    count(s, tcp_drop::bad_options);
    return false;
  }
  // Combinations no TCP sends (RFC 9293 3.10.7: a SYN never carries RST, and
  // SYN+FIN is a known scanning probe).
  if (has(seg, tcp_syn) && has(seg, tcp_rst | tcp_fin)) {
    count(s, tcp_drop::bad_flags);
    return false;
  }
  return true;
}

// The payload bytes [skip, skip + len) of the segment as a chain of their own
// (the mbufs of the frame, trimmed); the rest is freed.
rte_mbuf* payload_chain(tcp_segment& seg, uint32_t skip, uint32_t len) {
  rte_mbuf* m = seg.m;
  seg.m = nullptr;  // the caller owns it now
  uint32_t off = seg.payload_off + skip;
  while (m && off >= m->data_len) {
    off -= m->data_len;
    rte_mbuf* next = m->next;
    m->next = nullptr;
    rte_pktmbuf_free_seg(m);
    m = next;
  }
  if (!m) return nullptr;
  m->data_off = static_cast<uint16_t>(m->data_off + off);
  m->data_len = static_cast<uint16_t>(m->data_len - off);
  rte_mbuf* head = m;
  uint32_t left = len;
  rte_mbuf* last = nullptr;
  for (; m && left; m = m->next) {
    if (m->data_len > left) m->data_len = static_cast<uint16_t>(left);
    left -= m->data_len;
    last = m;
  }
  if (last && last->next) {
    rte_pktmbuf_free(last->next);  // padding and whatever lies past the window
    last->next = nullptr;
  }
  return head;
}

uint32_t scaled_wnd(const tcb& t, const tcp_segment& seg) { return uint32_t{seg.wnd} << t.snd_wscale; }

void take_peer_window(tcb& t, const tcp_segment& seg, uint32_t wnd) {
  t.snd_wnd = wnd;
  t.snd_wl1 = seg.seq;
  t.snd_wl2 = seg.ack;
  if (wnd > t.max_snd_wnd) t.max_snd_wnd = wnd;
}

void take_timestamp(tcp_stack& s, tcb& t, const tcp_segment& seg) {
  t.ts_recent = seg.opts.tsval;
  t.ts_recent_at_ns = s.now_ns;
}

// ---- LISTEN (RFC 9293 3.10.7.2) and SYN cookies ------------------------------------

void cookie_ack(tcp_stack& s, const tcp_listener& l, tcp_segment& seg);
void segment_synchronized(tcp_stack& s, tcb& t, tcp_segment& seg);

void cookie_syn(tcp_stack& s, const tcp_segment& syn) {
  // RFC 4987 3.6: no state; everything needed comes back in the ACK.
  uint16_t clamp = mss_clamp(s, syn.tuple.family);
  uint16_t mss = syn.opts.has_mss && syn.opts.mss < clamp ? syn.opts.mss : clamp;
  if (!syn.opts.has_mss) mss = syn.tuple.family == 4 ? 536 : 1220;
  uint32_t iss = cookie_make(s.cookie_key, syn.tuple, syn.seq, s.now_ns, mss);
  tcp_opts ours;
  ours.has_mss = true;
  ours.mss = clamp;
  // Without a timestamp to carry them, window scaling and SACK are not offered.
  ours.has_ts = s.cfg.timestamps && syn.opts.has_ts;
  ours.has_wscale = ours.has_ts && s.cfg.window_scaling && syn.opts.has_wscale;
  ours.wscale = our_wscale(s);
  ours.sack_permitted = ours.has_ts && s.cfg.sack && syn.opts.sack_permitted;
  uint32_t now_ts = static_cast<uint32_t>(s.now_ns / 1'000'000) + make_secrets(s, syn.tuple).ts_offset;
  // The peer's shift rides in the timestamp; ours follows from the config.
  ours.tsval = cookie_ts_encode(now_ts, ours.has_wscale, syn.opts.wscale, ours.sack_permitted);
  ours.tsecr = syn.opts.tsval;
  uint16_t wnd = s.cfg.recv_buffer > 65535 ? 65535 : static_cast<uint16_t>(s.cfg.recv_buffer);
  send_cookie_syn_ack(s, syn, iss, ours, wnd);
  s.cookie_sent_ns = s.now_ns;
}

// Whether an ACK to a listener may be a cookie: only while cookies sent
// lately can still be valid (as Linux's recent-overflow check).
bool cookies_in_use(const tcp_stack& s) {
  return s.cfg.syn_cookies && s.cookie_sent_ns &&
         s.now_ns - s.cookie_sent_ns <= (uint64_t{cookie_max_age} + 1) << 36;
}

void listen_syn(tcp_stack& s, const tcp_listener& l, const tcp_segment& seg, bool has_floor, uint32_t isn_floor) {
  bool backlog_full = l.syn_received >= s.cfg.syn_backlog;
  if (backlog_full || s.n_free == 0) {
    if (s.cfg.syn_cookies) {
      cookie_syn(s, seg);
    } else {
      count(s, backlog_full ? tcp_drop::backlog_full : tcp_drop::table_full);
    }
    return;
  }
  tcb* t = tcb_alloc(s, seg.tuple);
  if (!t) {
    count(s, tcp_drop::chain_full);
    return;
  }
  t->passive = true;
  t->listener = static_cast<uint16_t>(&l - s.listeners);
  s.listeners[t->listener].syn_received++;
  t->irs = seg.seq;
  t->rcv_nxt = seg.seq + 1;
  t->rcv_adv = t->rcv_nxt;
  const conn_secrets sec = make_secrets(s, seg.tuple);
  uint32_t iss = make_isn(s, sec);
  // RFC 6191 / RFC 1122 4.2.2.13: a connection replacing a TIME-WAIT one
  // starts above everything the old one sent.
  if (has_floor && seq_lt(iss, isn_floor)) iss = isn_floor;
  tcb_init_from_syn(s, *t, seg.opts, iss, sec.ts_offset);
  if (t->ts_ok) take_timestamp(s, *t, seg);
  // RFC 7323 2.2: the window of a SYN is never scaled.
  take_peer_window(*t, seg, seg.wnd);
  set_state(s, *t, tcp_state::syn_received);
  s.counters.passive_opens++;
  // Data on the SYN is not kept (no TCP Fast Open): the peer sends it again.
  tcp_output(s, *t);
  return;
}

void segment_listen(tcp_stack& s, tcp_segment& seg, bool has_floor, uint32_t isn_floor) {
  const tcp_listener* l = listener_for(s, seg.tuple);
  if (!l) {
    // RFC 9293 3.10.7.1: no connection, no listener: CLOSED answers with RST.
    count(s, tcp_drop::no_listener);
    send_rst_reply(s, seg);
    return;
  }
  if (has(seg, tcp_rst)) {  // first: an incoming RST is ignored
    count(s, tcp_drop::listen_rst);
    return;
  }
  if (has(seg, tcp_ack)) {  // second: any ACK is bad here, unless it returns a cookie
    if (!has(seg, tcp_syn) && cookies_in_use(s)) return cookie_ack(s, *l, seg);
    count(s, tcp_drop::listen_not_syn);
    send_rst_reply(s, seg);
    return;
  }
  if (has(seg, tcp_syn)) return listen_syn(s, *l, seg, has_floor, isn_floor);  // third
  count(s, tcp_drop::listen_not_syn);  // fourth: anything else is dropped
  return;
}

void cookie_ack(tcp_stack& s, const tcp_listener& l, tcp_segment& seg) {
  uint16_t mss;
  if (!cookie_check(s.cookie_key, seg.tuple, seg.seq - 1, seg.ack - 1, s.now_ns, mss)) {
    // Dropped without a RST (Linux sends one): while cookies are in use, a
    // segment of a cookie connection can arrive before the one that
    // completes it (reordered, or that one was lost; a duplicated SYN-ACK
    // makes the peer send an ACK past its first segment), and a RST would
    // kill the peer's connection. It sends the first segment again.
    count(s, tcp_drop::cookie_invalid);
    return;
  }
  if (s.n_free == 0) {
    count(s, tcp_drop::table_full);
    return;
  }
  tcp_opts peer;
  peer.has_mss = true;
  peer.mss = mss;
  if (s.cfg.timestamps && seg.opts.has_ts) {
    peer.has_ts = true;
    cookie_ts_decode(seg.opts.tsecr, peer.has_wscale, peer.wscale, peer.sack_permitted);
  }
  tcb* t = tcb_alloc(s, seg.tuple);
  if (!t) {
    count(s, tcp_drop::chain_full);
    return;
  }
  t->passive = true;
  t->listener = static_cast<uint16_t>(&l - s.listeners);
  tcb_init_from_syn(s, *t, peer, seg.ack - 1, make_secrets(s, seg.tuple).ts_offset);
  t->irs = seg.seq - 1;
  t->rcv_nxt = seg.seq;
  uint32_t offered = s.cfg.recv_buffer > 65535 ? 65535 : s.cfg.recv_buffer;
  t->rcv_adv = t->rcv_nxt + offered;
  t->snd_una = t->snd_nxt = t->snd_max = seg.ack;
  t->syn_acked = true;
  t->last_ack_sent = t->rcv_nxt;
  if (t->ts_ok) take_timestamp(s, *t, seg);
  take_peer_window(*t, seg, scaled_wnd(*t, seg));
  set_state(s, *t, tcp_state::established);
  s.counters.cookies_accepted++;
  s.counters.accepted++;
  t->app_owned = true;
  post_event(s, *t, ev_accepted);
  // The ACK may carry data or a FIN: the established rules take it.
  return segment_synchronized(s, *t, seg);
}

// ---- SYN-SENT (RFC 9293 3.10.7.3) --------------------------------------------------

void negotiate_active(tcp_stack& s, tcb& t, const tcp_opts& peer) {
  // What the SYN-ACK accepted of what our SYN offered; the send sequence
  // stays where the SYN left it.
  const uint8_t offered_ws = t.rcv_wscale;
  const uint32_t nxt = t.snd_nxt, max = t.snd_max;
  tcb_init_from_syn(s, t, peer, t.iss, t.ts_offset);  // the offset our SYN used
  t.snd_nxt = nxt;
  t.snd_max = max;
  if (t.ws_ok) t.rcv_wscale = offered_ws;
}

void segment_syn_sent(tcp_stack& s, tcb& t, tcp_segment& seg) {
  bool ack_ok = false;
  if (has(seg, tcp_ack)) {
    // First: an ACK of anything but our SYN gets a RST (unless it is one).
    if (seq_leq(seg.ack, t.iss) || seq_gt(seg.ack, t.snd_max)) {
      count(s, tcp_drop::syn_sent_bad_ack);
      send_rst_reply(s, seg);
      return;
    }
    ack_ok = true;
  }
  if (has(seg, tcp_rst)) {
    // Second: RFC 5961 3.2 takes a RST here only if it acknowledges our SYN.
    if (ack_ok) {
      s.counters.resets_received++;
      tcb_finish(s, t, ev_reset);  // connection refused
    } else {
      count(s, tcp_drop::rst_out_of_window);
    }
    return;
  }
  if (!has(seg, tcp_syn)) {
    count(s, tcp_drop::syn_sent_no_syn);
    return;
  }
  // Fourth: the SYN.
  t.irs = seg.seq;
  t.rcv_nxt = seg.seq + 1;
  t.rcv_adv = t.rcv_nxt;
  uint32_t backoff = t.backoff;
  negotiate_active(s, t, seg.opts);
  if (t.ts_ok) take_timestamp(s, t, seg);
  take_peer_window(t, seg, seg.wnd);  // never scaled on a SYN (RFC 7323 2.2)
  if (!ack_ok) {
    // Simultaneous open: SYN-RECEIVED, our SYN again with an ACK.
    set_state(s, t, tcp_state::syn_received);
    t.snd_nxt = t.iss;
    stop_rexmit(s, t);
    tcp_output(s, t);
    return;
  }
  t.snd_una = seg.ack;
  t.syn_acked = true;
  if (backoff == 0 && t.rtt_timing) rtt_sample(s.cfg, t, (s.now_ns - t.rtt_start_ns) / 1000);
  t.rtt_timing = false;
  stop_rexmit(s, t);
  set_state(s, t, tcp_state::established);
  s.counters.connected++;
  post_event(s, t, ev_connected);
  if (t.fin_queued) set_state(s, t, tcp_state::fin_wait_1);
  // The handshake's last ACK: the application's first segment, if it sends
  // on ev_connected, carries it (RFC 9293 3.5 lets the third segment hold data).
  owe_ack(s, t);
  tcp_output(s, t);
  return;
}

// ---- synchronized states (RFC 9293 3.10.7.4) ------------------------------------------

// RFC 9293 3.10.7.4, the table of the first check.
bool seq_acceptable(uint32_t seq, uint32_t seg_len, uint32_t rcv_nxt, uint32_t wnd) {
  if (seg_len == 0) return wnd == 0 ? seq == rcv_nxt : seq_in(seq, rcv_nxt, rcv_nxt + wnd);
  if (wnd == 0) return false;
  return seq_in(seq, rcv_nxt, rcv_nxt + wnd) || seq_in(seq + seg_len - 1, rcv_nxt, rcv_nxt + wnd);
}

// RFC 6191 section 2: may a SYN end this TIME-WAIT connection and start anew?
bool time_wait_takes_syn(const tcb& t, const tcp_segment& seg) {
  if (t.ts_ok && seg.opts.has_ts) {
    if (seq_gt(seg.opts.tsval, t.ts_recent)) return true;
    return seg.opts.tsval == t.ts_recent && seq_gt(seg.seq, t.rcv_nxt);
  }
  return seq_gt(seg.seq, t.rcv_nxt);
}

void on_reset(tcp_stack& s, tcb& t) {
  // RFC 9293 3.10.7.4, second check, by state.
  if (t.state == tcp_state::syn_received && t.passive && !t.app_owned) {
    tcb_finish(s, t, 0);  // back to LISTEN: the listener stays, this attempt goes
    return;
  }
  s.counters.resets_received++;
  tcb_finish(s, t, t.state == tcp_state::time_wait ? 0 : ev_reset);
}

void deliver_fin(tcp_stack& s, tcb& t) {
  // Eighth step: the FIN, once everything before it has arrived.
  t.rcv_nxt += 1;
  t.ooo_fin = false;
  post_event(s, t, ev_peer_closed);
  switch (t.state) {
    case tcp_state::syn_received:
    case tcp_state::established:
      set_state(s, t, tcp_state::close_wait);
      owe_ack(s, t);  // our FIN carries it if the application closes in this loop
      break;
    case tcp_state::fin_wait_1:
      if (t.fin_sent && t.snd_una == t.snd_max) {
        send_ack(s, t);
        enter_time_wait(s, t);
      } else {
        set_state(s, t, tcp_state::closing);  // simultaneous close
        t.ack_now = true;
      }
      break;
    case tcp_state::fin_wait_2:
      send_ack(s, t);
      enter_time_wait(s, t);
      break;
    default:
      t.ack_now = true;
      break;
  }
}

// In-order text on a connection that has had none yet, or none for longer
// than the RTO, earns quick ACKs: half the window's worth of segments, 2 to
// cfg.quick_acks (Linux's tcp_incr_quickack).
void take_quick_ack(tcp_stack& s, tcb& t) {
  uint64_t rto_ns = uint64_t{t.rto_us} * 1000;
  if (t.last_text_ns == 0 || s.now_ns - t.last_text_ns > rto_ns) {
    uint32_t window = seq_gt(t.rcv_adv, t.rcv_nxt) ? t.rcv_adv - t.rcv_nxt : 0;
    uint32_t half_window = window / (2u * t.mss);
    t.quick_acks = static_cast<uint8_t>(std::min(std::max(half_window, 2u), std::min(s.cfg.quick_acks, 255u)));
  }
  t.last_text_ns = s.now_ns;
  if (t.quick_acks) {
    t.quick_acks--;
    owe_ack(s, t);  // an answer sent in this loop carries it
  }
}

// Seventh step: the segment's text (its mbufs move to a queue).
void receive_text(tcp_stack& s, tcb& t, tcp_segment& seg, uint32_t seq, uint32_t skip, uint32_t len) {
  if (len == 0) return;
  if (seq == t.rcv_nxt) {
    rcvq_append(t, payload_chain(seg, skip, len));
    t.rcv_nxt += len;
    s.counters.bytes_in += len;
    uint32_t filled = t.ooo.segs ? ooo_pull(t) : 0;
    s.counters.bytes_in += filled;
    if (filled) t.ack_now = true;  // RFC 5681 4.2: a segment filling a hole is ACKed at once
    if (t.n_sack_report) sack_update_report(t);
    post_event(s, t, ev_readable);
    take_quick_ack(s, t);
    // Delayed ACK (RFC 1122 4.2.3.2; RFC 5681 4.2): at least every second
    // full segment, and within delack_ns.
    if (++t.delack_segs >= s.cfg.delack_segments) t.ack_now = true;
    if (!t.ack_now && !t.ack_owed) arm_delack(s, t);
    return;
  }
  // Out of order: queue, SACK it, and send a duplicate ACK at once (RFC 5681 4.2).
  t.ack_now = true;
  rte_mbuf* chain = payload_chain(seg, skip, len);
  if (!ooo_insert(t, chain, seq, s.cfg.max_ooo_segments)) {
    count(s, tcp_drop::ooo_full);
    return;
  }
  s.counters.ooo_segments++;
  sack_note_received(t, seq, seq + len);
  return;
}

void new_ack(tcp_stack& s, tcb& t, const tcp_segment& seg) {
  uint32_t acked = seg.ack - t.snd_una;
  uint32_t data = acked;
  if (!t.syn_acked) data--;  // our SYN
  bool fin_acked = t.fin_sent && seg.ack == t.snd_fin + 1;
  if (fin_acked) data--;
  queue_trim_front(t.sndq, data < t.sndq.bytes ? data : t.sndq.bytes);
  // RTT (RFC 7323 4.1 with timestamps; else one timed segment, RFC 6298).
  if (t.ts_ok && seg.opts.has_ts && seg.opts.tsecr && t.backoff == 0)
    rtt_sample(s.cfg, t, uint64_t{ts_now(s, t) - seg.opts.tsecr} * 1000);
  else if (t.rtt_timing && seq_gt(seg.ack, t.rtt_seq)) {
    rtt_sample(s.cfg, t, (s.now_ns - t.rtt_start_ns) / 1000);
    t.rtt_timing = false;
  }
  t.backoff = 0;
  t.snd_una = seg.ack;
  t.syn_acked = true;
  if (seq_lt(t.snd_nxt, t.snd_una)) t.snd_nxt = t.snd_una;
  if (seq_lt(t.rexmit_nxt, t.snd_una)) t.rexmit_nxt = t.snd_una;
  scoreboard_prune(t);
  cc_on_ack(s, t, acked, seg.ack);
  // RFC 6298 5.2/5.3: stop when all is acknowledged, else restart.
  if (t.snd_una == t.snd_max)
    stop_rexmit(s, t);
  else
    arm_rto(s, t);
  if (data && !t.fin_queued) post_event(s, t, ev_writable);
}

// Fifth step: the ACK field. Returns false when the segment is done with.
bool process_ack(tcp_stack& s, tcb& t, const tcp_segment& seg) {
  if (t.state == tcp_state::syn_received) {
    if (!(seq_lt(t.snd_una, seg.ack) && seq_leq(seg.ack, t.snd_max))) {
      count(s, tcp_drop::syn_received_bad_ack);
      send_rst_reply(s, seg);
      return false;
    }
    set_state(s, t, tcp_state::established);
    take_peer_window(t, seg, scaled_wnd(t, seg));
    if (t.passive) {
      t.app_owned = true;
      s.counters.accepted++;
      post_event(s, t, ev_accepted);
    } else {
      s.counters.connected++;
      post_event(s, t, ev_connected);
    }
    if (t.fin_queued) set_state(s, t, tcp_state::fin_wait_1);
  }
  // RFC 5961 5.2: acceptable is SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
  if (seq_gt(seg.ack, t.snd_max)) {
    count(s, tcp_drop::ack_unsent);
    send_ack(s, t);
    return false;
  }
  if (seq_lt(seg.ack, t.snd_una - t.max_snd_wnd)) {
    count(s, tcp_drop::ack_too_old);
    send_challenge_ack(s, t);
    return false;
  }
  bool newly_sacked = false;
  if (t.sack_ok && seg.opts.n_sack) {
    uint32_t before = scoreboard_sacked_bytes(t);
    scoreboard_add(t, seg.opts.sack, seg.opts.n_sack);
    newly_sacked = scoreboard_sacked_bytes(t) > before;
  }
  const uint32_t wnd = scaled_wnd(t, seg);
  // RFC 5681 section 2: a duplicate ACK acknowledges nothing new, carries no
  // data, SYN or FIN, leaves the window alone, while data is outstanding.
  // With SACK, an ACK that reports data above a hole counts as well, even
  // riding on data or moving the window (RFC 6675's loss detection counts
  // SACKed data, not pure ACKs; Linux does the same): with traffic both ways
  // every ACK carries data, and RFC 5681's rule alone would leave each loss
  // to the retransmission timer.
  bool dup = seg.ack == t.snd_una && !has(seg, tcp_syn | tcp_fin) && t.snd_una != t.snd_max &&
             ((seg.len == 0 && wnd == t.snd_wnd) || newly_sacked);
  if (seq_gt(seg.ack, t.snd_una)) new_ack(s, t, seg);
  // Window update: RFC 9293 3.10.7.4, with SND.WL1/WL2 against old segments.
  if (seq_lt(t.snd_wl1, seg.seq) || (t.snd_wl1 == seg.seq && seq_leq(t.snd_wl2, seg.ack))) {
    take_peer_window(t, seg, wnd);
    if (wnd && t.rexmit == rexmit_kind::persist) {
      stop_rexmit(s, t);
      t.backoff = 0;
    }
  }
  t.probes = 0;
  if (dup) cc_on_dupack(s, t);
  const bool our_fin_acked = t.fin_sent && t.snd_una == t.snd_max;
  switch (t.state) {
    case tcp_state::fin_wait_1:
      if (our_fin_acked) {
        set_state(s, t, tcp_state::fin_wait_2);
        if (!t.app_owned) arm_life(s, t, life_kind::fin_wait_2, s.now_ns + s.cfg.fin_wait_2_ns);
      }
      break;
    case tcp_state::closing:
      // Until our FIN is acknowledged, data before it may still be going out.
      if (our_fin_acked) {
        enter_time_wait(s, t);
        return false;
      }
      break;
    case tcp_state::last_ack:
      if (our_fin_acked) {
        tcb_finish(s, t, ev_closed);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

// A pure ACK sent before a segment that overtook it and renewed TS.Recent:
// it repeats what is known (no data, same ACK, same window) and is no older
// than about one RTO, so dropping it under PAWS would only cost a duplicate
// ACK a fast retransmit may need (Linux's tcp_disordered_ack).
bool disordered_ack(const tcb& t, const tcp_segment& seg) {
  if (!has(seg, tcp_ack) || has(seg, tcp_syn | tcp_fin) || seg.len != 0) return false;
  if (seg.seq != t.rcv_nxt || seg.ack != t.snd_una || scaled_wnd(t, seg) != t.snd_wnd) return false;
  uint32_t rto_ms = t.rto_us / 1000 + 1;  // the peer's clock taken as ~1 ms a tick, as Linux does
  return t.ts_recent - seg.opts.tsval <= rto_ms;
}

void segment_synchronized(tcp_stack& s, tcb& t, tcp_segment& seg) {
  settle_output(s, t);
  // A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost, send it again.
  if (t.state == tcp_state::syn_received && has(seg, tcp_syn) && !has(seg, tcp_ack) && seg.seq == t.irs) {
    t.snd_nxt = t.iss;
    tcp_output(s, t);
    return;
  }
  // Simultaneous open (RFC 9293 figure 8): in SYN-RECEIVED the peer's SYN-ACK
  // repeats its SYN, which the sequence check would refuse; it acknowledges
  // our SYN, so it completes the handshake (Linux accepts it the same way).
  if (t.state == tcp_state::syn_received && !t.passive && has(seg, tcp_syn) && has(seg, tcp_ack) &&
      seg.seq + 1 == t.rcv_nxt && seg.ack == t.snd_max && seg.len == 0) {
    if (t.ts_ok && seg.opts.has_ts) take_timestamp(s, t, seg);
    process_ack(s, t, seg);
    if (t.in_use) {
      t.ack_now = true;
      tcp_output(s, t);
    }
    return;
  }
  // PAWS (RFC 7323 5.3), ahead of the sequence check; RSTs are exempt (5.2),
  // and so are pure duplicate ACKs overtaken in the network (as Linux does).
  if (t.ts_ok && !has(seg, tcp_rst) && seg.opts.has_ts && seq_lt(seg.opts.tsval, t.ts_recent) &&
      s.now_ns - t.ts_recent_at_ns < paws_idle_ns && !disordered_ack(t, seg)) {
    count(s, tcp_drop::paws);
    send_ack(s, t);
    return;
  }
  // First: the sequence number.
  uint32_t seg_len = seg.len + (has(seg, tcp_syn) ? 1 : 0) + (has(seg, tcp_fin) ? 1 : 0);
  uint32_t wnd = seq_gt(t.rcv_adv, t.rcv_nxt) ? t.rcv_adv - t.rcv_nxt : 0;
  bool zero_window_probe = false;
  if (!seq_acceptable(seg.seq, seg_len, t.rcv_nxt, wnd)) {
    if (has(seg, tcp_rst)) {
      count(s, tcp_drop::rst_out_of_window);
      return;
    }
    // RFC 9293: with a zero window, ACKs are still taken from a segment at
    // RCV.NXT (a zero-window probe); its text is not.
    if (!(wnd == 0 && seg.seq == t.rcv_nxt)) {
      if (seq_leq(seg.seq + seg_len, t.rcv_nxt))
        s.counters.dup_segments++;
      else
        count(s, tcp_drop::out_of_window);
      // A FIN retransmitted into TIME-WAIT restarts its 2 MSL (3.10.7.4).
      if (t.state == tcp_state::time_wait && has(seg, tcp_fin))
        arm_life(s, t, life_kind::time_wait, s.now_ns + 2 * s.cfg.msl_ns);
      send_ack(s, t);
      return;
    }
    zero_window_probe = true;
  }
  // Second: RST (RFC 5961 3.2: exactly RCV.NXT resets, elsewhere in the
  // window earns a challenge ACK).
  if (has(seg, tcp_rst)) {
    if (seg.seq == t.rcv_nxt) {
      on_reset(s, t);
    } else {
      count(s, tcp_drop::rst_challenged);
      send_challenge_ack(s, t);
    }
    return;
  }
  // Fourth: SYN (RFC 5961 4.2: a challenge ACK, whatever its sequence number).
  if (has(seg, tcp_syn)) {
    if (t.state == tcp_state::syn_received && t.passive && !t.app_owned) {
      tcb_finish(s, t, 0);  // back to LISTEN
      return;
    }
    count(s, tcp_drop::syn_challenged);
    send_challenge_ack(s, t);
    return;
  }
  // Fifth: ACK.
  if (!has(seg, tcp_ack)) {
    count(s, tcp_drop::bad_flags);
    return;
  }
  // RFC 7323 4.3: TS.Recent follows the segment that covers Last.ACK.sent.
  if (t.ts_ok && seg.opts.has_ts && seq_geq(seg.opts.tsval, t.ts_recent) && seq_leq(seg.seq, t.last_ack_sent))
    take_timestamp(s, t, seg);
  const uint32_t gen = t.gen;
  if (!process_ack(s, t, seg) || !t.in_use || t.gen != gen) return;
  touch_keepalive(s, t);

  // Seventh: the text, trimmed to the window.
  uint32_t seq = seg.seq, skip = 0, len = zero_window_probe ? 0 : seg.len;
  bool fin = has(seg, tcp_fin) && !zero_window_probe;
  if (seq_lt(seq, t.rcv_nxt)) {
    uint32_t d = t.rcv_nxt - seq;
    skip = d < len ? d : len;
    len -= skip;
    seq = t.rcv_nxt;
  }
  if (seq_gt(seq + len, t.rcv_adv)) {
    len = seq_gt(t.rcv_adv, seq) ? t.rcv_adv - seq : 0;
    fin = false;  // a FIN past the window waits for its retransmission
  }
  if (len) {
    switch (t.state) {
      case tcp_state::established:
      case tcp_state::fin_wait_1:
      case tcp_state::fin_wait_2:
        if (!t.app_owned) {
          // Nobody will read it: the peer must learn (Linux does the same).
          send_rst(s, t);
          tcb_finish(s, t, 0);
          return;
        }
        receive_text(s, t, seg, seq, skip, len);
        break;
      default:
        count(s, tcp_drop::data_after_fin);
        fin = false;
        break;
    }
  }
  // Eighth: FIN.
  if (fin) {
    uint32_t at = seq + len;
    if (at == t.rcv_nxt && t.state != tcp_state::close_wait && t.state != tcp_state::closing &&
        t.state != tcp_state::last_ack && t.state != tcp_state::time_wait) {
      deliver_fin(s, t);
    } else if (seq_gt(at, t.rcv_nxt)) {
      t.ooo_fin = true;
      t.ooo_fin_seq = at;
    }
  }
  if (t.ooo_fin && t.ooo_fin_seq == t.rcv_nxt &&
      (t.state == tcp_state::established || t.state == tcp_state::fin_wait_1 || t.state == tcp_state::fin_wait_2))
    deliver_fin(s, t);
  if (zero_window_probe) t.ack_now = true;
  if (t.in_use && t.gen == gen) tcp_output(s, t);
}

void segment_arrives(tcp_stack& s, tcp_segment& seg) {
  uint32_t i = table_lookup(s, seg.tuple);
  if (i == no_index) return segment_listen(s, seg, false, 0);
  tcb& t = s.tcbs[i];
  if (t.state == tcp_state::time_wait && has(seg, tcp_syn) && !has(seg, tcp_ack) &&
      listener_for(s, seg.tuple) && time_wait_takes_syn(t, seg)) {
    uint32_t floor = t.snd_max + 65535 + 2;
    s.counters.time_wait_reused++;
    tcb_finish(s, t, 0);
    return segment_listen(s, seg, true, floor);
  }
  if (t.state == tcp_state::syn_sent) return segment_syn_sent(s, t, seg);
  return segment_synchronized(s, t, seg);
}

}  // namespace

void tcp_input(tcp_stack& s, rte_mbuf* const* pkts, const pkt_meta* meta, uint16_t n) {
  for (uint16_t k = 0; k < n; ++k) {
    tcp_segment seg;
    if (!parse_segment(s, pkts[k], meta[k], seg)) {
      rte_pktmbuf_free(pkts[k]);
      continue;
    }
    s.counters.segments_in++;
    segment_arrives(s, seg);
    // Whatever the segment's text did not become is freed here.
    if (seg.m) rte_pktmbuf_free(seg.m);
  }
}

}  // namespace kgw::tcp
