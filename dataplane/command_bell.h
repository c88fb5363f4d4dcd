#pragma once
// A doorbell for the command rings: a futex word in the shared state. The
// side that queues (a secondary's command, the main lcore's reply) rings it;
// the side that waits sleeps on it rather than on a timer, so a publish is
// served as soon as it is queued instead of at the main loop's next turn.
// Slow path only: both calls are system calls.

#include <cstdint>

namespace kgw {

// What to wait on: read it before looking at the ring, so that a ring between
// the look and the wait cuts the wait short instead of being slept through.
inline uint32_t bell_mark(const uint32_t* bell) { return __atomic_load_n(bell, __ATOMIC_ACQUIRE); }

// Wakes every process waiting on the bell. The word is in shared memory
// (hugepages mapped by every process), so the futex is not process-private.
void bell_ring(uint32_t* bell);

// Sleeps until the bell has rung since `mark`, at most timeout_us; returns at
// once when it already has. A signal ends the wait early, as a ring does.
void bell_wait(uint32_t* bell, uint32_t mark, unsigned timeout_us);

}  // namespace kgw
