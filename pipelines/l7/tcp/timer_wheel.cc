#include "pipelines/l7/tcp/timer_wheel.h"

#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

namespace {

void unlink(timer_wheel& w, uint32_t id) {
  timer_node& n = w.nodes[id];
  if (n.prev != no_index)
    w.nodes[n.prev].next = n.next;
  else
    w.slots[n.at_tick & w.mask] = n.next;
  if (n.next != no_index) w.nodes[n.next].prev = n.prev;
  n.next = n.prev = no_index;
  n.at_tick = 0;
  w.armed--;
}

void link(timer_wheel& w, uint32_t id, uint64_t tick) {
  timer_node& n = w.nodes[id];
  uint32_t& head = w.slots[tick & w.mask];
  n.at_tick = tick;
  n.prev = no_index;
  n.next = head;
  if (head != no_index) w.nodes[head].prev = id;
  head = id;
  w.armed++;
}

}  // namespace

void wheel_init(timer_wheel& w, timer_node* nodes, uint32_t capacity, uint32_t* slots, uint32_t n_slots,
                uint64_t tick_ns, uint64_t now_ns) {
  w.nodes = nodes;
  w.slots = slots;
  w.mask = n_slots - 1;
  w.tick_ns = tick_ns ? tick_ns : 1;
  // Tick 0 would read as "not armed": the clock's first tick is 1.
  w.next_tick = now_ns / w.tick_ns + 1;
  w.armed = 0;
  for (uint32_t i = 0; i < capacity; ++i) nodes[i] = {no_index, no_index, 0};
  for (uint32_t i = 0; i < n_slots; ++i) slots[i] = no_index;
}

void wheel_arm(timer_wheel& w, uint32_t id, uint64_t at_ns) {
  if (w.nodes[id].at_tick) unlink(w, id);
  uint64_t tick = wheel_tick_of(w, at_ns);
  if (tick < w.next_tick) tick = w.next_tick;  // overdue: the next sweep takes it
  link(w, id, tick);
}

void wheel_disarm(timer_wheel& w, uint32_t id) {
  if (w.nodes[id].at_tick) unlink(w, id);
}

uint32_t wheel_expire(timer_wheel& w, uint64_t now_ns, uint32_t* due, uint32_t max) {
  const uint64_t now_tick = now_ns / w.tick_ns + 1;
  // After a long pause one turn visits every slot once: enough.
  const uint64_t turn = uint64_t{w.mask} + 1;
  if (now_tick >= w.next_tick + turn) w.next_tick = now_tick - turn + 1;
  uint32_t n = 0;
  while (w.next_tick <= now_tick) {
    uint32_t id = w.slots[w.next_tick & w.mask];
    while (id != no_index) {
      uint32_t next = w.nodes[id].next;
      if (w.nodes[id].at_tick <= w.next_tick) {
        if (n == max) return n;
        unlink(w, id);
        due[n++] = id;
      }
      id = next;
    }
    w.next_tick++;
  }
  return n;
}

}  // namespace kgw::tcp
