// A hashed timer wheel (Varghese and Lauck's scheme 6): one slot per tick,
// entries in the slot of their deadline's tick, deadlines beyond one turn of
// the wheel simply wait in their slot for the turn in which they fall due.
// Arming and disarming are O(1); advancing costs one slot per tick elapsed
// (at most one turn). Entries are ids 0..capacity-1 (TCB indices): each has
// one deadline, the earliest of its connection's timers. The memory comes
// from the caller; nothing here allocates or reads a clock.
#pragma once

#include <cstdint>

namespace kgw::tcp {

struct timer_node {
  uint32_t next;
  uint32_t prev;
  uint64_t at_tick;  // 0: not armed
};

struct timer_wheel {
  timer_node* nodes = nullptr;
  uint32_t* slots = nullptr;  // head of each slot's list
  uint32_t mask = 0;          // slot count - 1
  uint64_t tick_ns = 1;
  uint64_t next_tick = 0;     // the first tick not yet processed
  uint32_t armed = 0;
};

// nodes[capacity], slots[n_slots] (a power of two), both written here.
void wheel_init(timer_wheel& w, timer_node* nodes, uint32_t capacity, uint32_t* slots, uint32_t n_slots,
                uint64_t tick_ns, uint64_t now_ns);
// The tick a deadline falls in: a tick fires when the clock has reached its
// start (rounded up: never early).
inline uint64_t wheel_tick_of(const timer_wheel& w, uint64_t at_ns) { return (at_ns + w.tick_ns - 1) / w.tick_ns + 1; }
// (Re)schedules `id` to fire at the first tick at or after at_ns; never early.
void wheel_arm(timer_wheel& w, uint32_t id, uint64_t at_ns);
void wheel_disarm(timer_wheel& w, uint32_t id);
inline bool wheel_armed(const timer_wheel& w, uint32_t id) { return w.nodes[id].at_tick != 0; }
// Whether `id` is armed to fire no later than a deadline of at_ns would.
inline bool wheel_fires_by(const timer_wheel& w, uint32_t id, uint64_t at_ns) {
  return wheel_armed(w, id) && w.nodes[id].at_tick <= wheel_tick_of(w, at_ns);
}
// Moves up to `max` ids whose deadline is at or before now_ns into `due`
// (disarmed). Call again while it returns `max`: the sweep resumes where it
// stopped.
uint32_t wheel_expire(timer_wheel& w, uint64_t now_ns, uint32_t* due, uint32_t max);

}  // namespace kgw::tcp
