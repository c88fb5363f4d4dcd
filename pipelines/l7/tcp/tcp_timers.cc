// The connection timers and tcp_advance. A TCB has three deadlines: the
// retransmission timer (RTO or persist), the delayed ACK, and a long one
// (keep-alive, FIN-WAIT-2, TIME-WAIT); the wheel holds one entry per TCB, at
// the earliest of them or before it.
#include <rte_mbuf.h>

#include <algorithm>

#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

void reschedule(tcp_stack& s, tcb& t) {
  // The earliest deadline armed, 0 when none is: 0 - 1 wraps above any
  // deadline, so one minimum over (d - 1) skips the ones off.
  const uint64_t at = std::min({t.rexmit_at - 1, t.delack_at - 1, t.life_at - 1}) + 1;
  // Lazily: deadlines mostly move later (every ACK restarts the RTO) or go
  // away (the delayed ACK left with data). An entry that fires no later than
  // needed stays; when it fires, on_timer finds what is due (perhaps nothing)
  // and reschedules at the deadlines of then. Only an earlier deadline moves
  // the entry. stop_timers, when the TCB ends, disarms for real.
  if (at && !wheel_fires_by(s.wheel, index_of(s, t), at)) wheel_arm(s.wheel, index_of(s, t), at);
}

void arm_rto(tcp_stack& s, tcb& t) {
  t.rexmit = rexmit_kind::rto;
  t.rexmit_at = s.now_ns + rto_ns(s.cfg, t);
  reschedule(s, t);
}

void arm_persist(tcp_stack& s, tcb& t) {
  t.rexmit = rexmit_kind::persist;
  t.rexmit_at = s.now_ns + rto_ns(s.cfg, t);
  reschedule(s, t);
}

void stop_rexmit(tcp_stack& s, tcb& t) {
  if (!t.rexmit_at) return;
  t.rexmit = rexmit_kind::none;
  t.rexmit_at = 0;
  reschedule(s, t);
}

void arm_delack(tcp_stack& s, tcb& t) {
  if (t.delack_at) return;
  t.delack_at = s.now_ns + s.cfg.delack_ns;
  reschedule(s, t);
}

void arm_life(tcp_stack& s, tcb& t, life_kind k, uint64_t at) {
  t.life = k;
  t.life_at = at;
  reschedule(s, t);
}

void stop_timers(tcp_stack& s, tcb& t) {
  t.rexmit = rexmit_kind::none;
  t.life = life_kind::none;
  t.rexmit_at = t.delack_at = t.life_at = 0;
  wheel_disarm(s.wheel, index_of(s, t));
}

void touch_keepalive(tcp_stack& s, tcb& t) {
  t.last_rx_ns = s.now_ns;
  // The timer is armed once and re-armed lazily when it fires: no wheel
  // work per segment.
  if (s.cfg.keepalive && t.life == life_kind::none &&
      (t.state == tcp_state::established || t.state == tcp_state::close_wait))
    arm_life(s, t, life_kind::keepalive, s.now_ns + s.cfg.keepalive_idle_ns);
}

namespace {

bool still(const tcb& t, uint32_t gen) { return t.in_use && t.gen == gen; }

void give_up(tcp_stack& s, tcb& t) {
  s.counters.timeouts++;
  if (t.state != tcp_state::syn_sent) send_rst(s, t);
  tcb_finish(s, t, ev_timeout);
}

// RFC 6298 section 5.4-5.7 and RFC 5681 section 3.1 on a timeout.
void on_rto(tcp_stack& s, tcb& t) {
  s.counters.rto_expired++;
  if (t.state == tcp_state::syn_sent || t.state == tcp_state::syn_received) {
    uint32_t limit = t.state == tcp_state::syn_sent ? s.cfg.max_syn_retransmits : s.cfg.max_synack_retransmits;
    if (t.backoff >= limit) {
      if (t.passive && !t.app_owned) {
        s.counters.syn_received_dropped++;
        tcb_finish(s, t, 0);
      } else {
        give_up(s, t);
      }
      return;
    }
    t.backoff++;
    t.snd_nxt = t.iss;  // the SYN (or SYN-ACK) again
    tcp_output(s, t);
    return;
  }
  if (t.backoff >= s.cfg.max_retransmits) {
    give_up(s, t);
    return;
  }
  cc_on_rto(t);
  if (t.backoff < 30) t.backoff++;
  // Go back N from the first unacknowledged byte. RFC 2018 section 8: the
  // receiver may have dropped what it SACKed, so the scoreboard goes too.
  t.snd_nxt = t.snd_una;
  t.n_scoreboard = 0;
  t.rtt_timing = false;  // Karn: no sample from retransmitted data
  tcp_output(s, t);
  if (still(t, t.gen) && !t.rexmit_at && t.snd_una != t.snd_max) arm_rto(s, t);
}

// RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: probe a zero window with one byte,
// as long as the peer keeps answering.
void on_persist(tcp_stack& s, tcb& t) {
  uint32_t avail = t.sndq.bytes - (t.snd_nxt - snd_data_seq(t));
  if (t.snd_wnd != 0 || avail == 0) return;
  if (t.probes >= s.cfg.max_retransmits) {
    give_up(s, t);
    return;
  }
  t.probes++;
  s.counters.persist_probes++;
  send_data_at(s, t, t.snd_nxt, 1, false);
  if (t.backoff < 30) t.backoff++;
  arm_persist(s, t);
}

// RFC 1122 4.2.3.6: after keepalive_idle of silence, probes every interval;
// the connection dies after keepalive_probes unanswered ones.
void on_keepalive(tcp_stack& s, tcb& t) {
  if (t.state != tcp_state::established && t.state != tcp_state::close_wait) return;
  uint64_t quiet_until = t.last_rx_ns + s.cfg.keepalive_idle_ns;
  bool busy = t.snd_una != t.snd_max || t.rexmit_at;
  if (s.now_ns < quiet_until || busy) {
    t.probes = 0;
    arm_life(s, t, life_kind::keepalive, busy ? s.now_ns + s.cfg.keepalive_idle_ns : quiet_until);
    return;
  }
  if (t.probes >= s.cfg.keepalive_probes) {
    give_up(s, t);
    return;
  }
  t.probes++;
  s.counters.keepalive_probes++;
  // SEG.SEQ = SND.NXT - 1 with no data: the peer must answer with an ACK.
  send_data_at(s, t, t.snd_nxt - 1, 0, false);
  arm_life(s, t, life_kind::keepalive, s.now_ns + s.cfg.keepalive_interval_ns);
}

void on_life(tcp_stack& s, tcb& t) {
  life_kind k = t.life;
  t.life = life_kind::none;
  switch (k) {
    case life_kind::time_wait:
      tcb_finish(s, t, 0);  // ev_closed went out on entering TIME-WAIT
      break;
    case life_kind::fin_wait_2:
      s.counters.fin_wait_2_expired++;
      tcb_finish(s, t, 0);
      break;
    case life_kind::keepalive:
      on_keepalive(s, t);
      break;
    case life_kind::none:
      break;
  }
}

void on_timer(tcp_stack& s, tcb& t) {
  const uint32_t gen = t.gen;
  if (t.delack_at && t.delack_at <= s.now_ns) {
    t.delack_at = 0;
    if (t.delack_segs || t.ack_now) {
      s.counters.delayed_acks++;
      t.ack_now = true;
      tcp_output(s, t);
    }
  }
  if (still(t, gen) && t.rexmit_at && t.rexmit_at <= s.now_ns) {
    rexmit_kind k = t.rexmit;
    t.rexmit = rexmit_kind::none;
    t.rexmit_at = 0;
    if (k == rexmit_kind::rto)
      on_rto(s, t);
    else if (k == rexmit_kind::persist)
      on_persist(s, t);
  }
  if (still(t, gen) && t.life_at && t.life_at <= s.now_ns) {
    t.life_at = 0;
    on_life(s, t);
  }
  if (still(t, gen)) reschedule(s, t);
}

}  // namespace

void tcp_advance(tcp_stack& s, uint64_t now_ns) {
  if (now_ns > s.now_ns) s.now_ns = now_ns;
  // Connections the full TX ring stopped go first.
  while (s.blocked.head != no_index && s.tx_count < s.cfg.tx_ring_size) {
    uint32_t i = s.blocked.pop_front(s.tcbs);
    s.tcbs[i].on_output_list = false;
    tcp_output(s, s.tcbs[i]);
  }
  uint32_t n;
  do {
    n = wheel_expire(s.wheel, s.now_ns, s.due, max_burst);
    for (uint32_t k = 0; k < n; ++k) on_timer(s, s.tcbs[s.due[k]]);
  } while (n == max_burst);
}

}  // namespace kgw::tcp
