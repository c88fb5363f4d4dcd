// NewReno congestion control: slow start and congestion avoidance (RFC 5681
// section 3.1), fast retransmit and fast recovery with RFC 6582's partial
// acknowledgments. When the peer SACKs, the segment retransmitted on a partial
// ACK or a duplicate ACK in recovery is the next hole of the scoreboard
// rather than always the first unacknowledged one (sack.cc).
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

constexpr uint32_t cwnd_cap = 1u << 30;

uint32_t half_flight(const tcb& t) {
  // RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS).
  uint32_t half = flight_size(t) / 2;
  uint32_t two = 2 * payload_mss(t);
  return half > two ? half : two;
}

}  // namespace

uint32_t flight_size(const tcb& t) { return t.snd_max - t.snd_una; }

void cc_init(const tcp_config& c, tcb& t) {
  // RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)), for n segments.
  uint32_t mss = payload_mss(t);
  uint32_t n = c.initial_cwnd_segments ? c.initial_cwnd_segments : 1;
  uint32_t floor = 1460 * n > 2 * mss ? 1460 * n : 2 * mss;
  t.cwnd = n * mss < floor ? n * mss : floor;
  t.ssthresh = cwnd_cap;  // RFC 5681 3.1: arbitrarily high at first
  t.recover = t.iss;      // RFC 6582 3.2 step 1
  t.in_recovery = false;
  t.dupacks = 0;
}

void cc_on_ack(tcp_stack& s, tcb& t, uint32_t acked, uint32_t ack) {
  uint32_t mss = payload_mss(t);
  if (t.in_recovery) {
    if (seq_geq(ack, t.recover)) {
      // RFC 6582 3.2 step 3, full acknowledgment: cwnd = min(ssthresh,
      // max(FlightSize, SMSS) + SMSS), recovery ends.
      uint32_t fs = flight_size(t);
      uint32_t w = (fs > mss ? fs : mss) + mss;
      t.cwnd = w < t.ssthresh ? w : t.ssthresh;
      t.in_recovery = false;
      t.dupacks = 0;
      return;
    }
    // Step 5, partial acknowledgment: retransmit the next lost segment,
    // deflate cwnd by what was acknowledged, add back one SMSS if that was at
    // least one SMSS; stay in recovery.
    s.counters.partial_ack_retransmits++;
    retransmit_next(s, t);
    t.cwnd = t.cwnd > acked ? t.cwnd - acked : 0;
    if (acked >= mss) t.cwnd += mss;
    if (t.cwnd < mss) t.cwnd = mss;
    return;
  }
  t.dupacks = 0;
  // `recover` trails the ACKs once they pass it: compared with snd_una
  // (cc_on_dupack), a value left 2^31 bytes behind would read as ahead.
  if (seq_gt(ack, t.recover)) t.recover = ack - 1;
  if (t.cwnd < t.ssthresh)
    t.cwnd += acked < mss ? acked : mss;  // RFC 5681 eq. (2), slow start
  else
    t.cwnd += mss * mss / t.cwnd > 0 ? mss * mss / t.cwnd : 1;  // eq. (3), congestion avoidance
  if (t.cwnd > cwnd_cap) t.cwnd = cwnd_cap;
}

void cc_on_dupack(tcp_stack& s, tcb& t) {
  s.counters.dup_acks++;
  if (t.dupacks < 255) t.dupacks++;
  uint32_t mss = payload_mss(t);
  if (t.in_recovery) {
    // RFC 6582 3.2 step 4: each further duplicate inflates cwnd by one SMSS
    // (a segment has left the network). With SACK, a newly revealed hole goes
    // out at once.
    t.cwnd += mss;
    if (t.sack_ok && t.n_scoreboard) retransmit_next(s, t);
    return;
  }
  // Step 2: the third duplicate starts fast retransmit, unless it belongs to
  // the loss episode already recovered (the ACK does not pass `recover`).
  if (t.dupacks != 3 || !seq_gt(t.snd_una, t.recover)) return;
  s.counters.fast_retransmits++;
  t.ssthresh = half_flight(t);
  t.recover = t.snd_max;
  t.in_recovery = true;
  t.rexmit_nxt = t.snd_una;
  retransmit_next(s, t);
  t.cwnd = t.ssthresh + 3 * mss;  // step 3
}

void cc_on_rto(tcb& t) {
  // RFC 5681 3.1: ssthresh from the flight when the segment is first resent;
  // the loss window is one segment. RFC 6582 3.2 step 4 (after a timeout):
  // recover = the highest sequence sent.
  if (t.backoff == 0) t.ssthresh = half_flight(t);
  t.cwnd = payload_mss(t);
  t.recover = t.snd_max;
  t.in_recovery = false;
  t.dupacks = 0;
}

}  // namespace kgw::tcp
