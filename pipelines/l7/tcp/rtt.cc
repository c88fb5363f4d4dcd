// Round-trip time estimation and the retransmission timeout (RFC 6298).
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

uint32_t clamp_rto(const tcp_config& c, uint64_t us) {
  uint64_t lo = c.rto_min_ns / 1000, hi = c.rto_max_ns / 1000;
  if (us < lo) us = lo;
  if (us > hi) us = hi;
  return static_cast<uint32_t>(us);
}

}  // namespace

void rtt_init(const tcp_config& c, tcb& t) {
  // RFC 6298 2.1: until a sample, RTO = 1 s (rto_initial_ns).
  t.srtt_us = t.rttvar_us = 0;
  t.rto_us = clamp_rto(c, c.rto_initial_ns / 1000);
  t.backoff = 0;
}

void rtt_sample(const tcp_config& c, tcb& t, uint64_t r) {
  if (r == 0) r = 1;
  if (r > 0xffffffffu / 8) r = 0xffffffffu / 8;
  if (t.srtt_us == 0) {
    // RFC 6298 2.2: the first measurement.
    t.srtt_us = static_cast<uint32_t>(r);
    t.rttvar_us = static_cast<uint32_t>(r / 2);
  } else {
    // RFC 6298 2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT <- 7/8 SRTT + 1/8 R'.
    uint64_t diff = t.srtt_us > r ? t.srtt_us - r : r - t.srtt_us;
    t.rttvar_us = static_cast<uint32_t>((3 * uint64_t{t.rttvar_us} + diff) / 4);
    t.srtt_us = static_cast<uint32_t>((7 * uint64_t{t.srtt_us} + r) / 8);
  }
  // RTO = SRTT + max(G, K * RTTVAR), K = 4, G the clock granularity.
  uint64_t g = c.timer_tick_ns / 1000;
  uint64_t var = 4 * uint64_t{t.rttvar_us};
  t.rto_us = clamp_rto(c, t.srtt_us + (var > g ? var : g));
}

uint64_t rto_ns(const tcp_config& c, const tcb& t) {
  // RFC 6298 5.5: the timer backs off by doubling, up to the maximum (2.5).
  uint64_t v = uint64_t{t.rto_us} * 1000;
  for (unsigned i = 0; i < t.backoff && v < c.rto_max_ns; ++i) v *= 2;
  return v < c.rto_max_ns ? v : c.rto_max_ns;
}

}  // namespace kgw::tcp
