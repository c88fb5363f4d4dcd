// When the worker sends what its TX buffers hold (DPDK l3fwd's drain timer,
// BURST_TX_DRAIN_US). Every TX burst is a fixed cost on some ports (af_packet:
// a sendto, and the kernel's wake-ups of the receivers); while packets keep
// arriving, a partly filled burst can wait for the next poll loop's packets and
// leave with them. It never waits once a loop received nothing (no latency is
// added when the worker goes idle) nor past a bound, counted from the start of
// the loop that first held it. A full buffer leaves at once regardless
// (enqueue_tx). Pure: the caller reads the clock and does the sending.
#pragma once

#include <cstdint>

namespace kgw {

struct tx_drain {
  uint64_t bound_tsc = 0;  // longest hold, TSC cycles; 0 = send at the end of every loop
  uint64_t held_since = 0; // TSC at the start of the loop that first held the buffered packets
  bool holding = false;

  // At the end of a poll loop that started at loop_start: true when the
  // buffered packets are to be sent now. had_rx: the loop received packets;
  // pending: something is buffered.
  bool due(bool had_rx, bool pending, uint64_t loop_start, uint64_t now) {
    if (!pending) {
      holding = false;
      return false;
    }
    if (bound_tsc == 0 || !had_rx) return sent();
    if (!holding) {
      holding = true;
      held_since = loop_start;
      return now - loop_start >= bound_tsc ? sent() : false;
    }
    return now - held_since >= bound_tsc ? sent() : false;
  }

 private:
  bool sent() {
    holding = false;
    return true;
  }
};

// The bound in TSC cycles for a hold of `us` microseconds.
constexpr uint64_t tx_drain_bound_tsc(unsigned us, uint64_t tsc_hz) { return tsc_hz / 1000000 * us; }

}  // namespace kgw
