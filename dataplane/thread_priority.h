#pragma once
// The slow path's scheduling (gateway.yaml dataplane.control_priority and
// dataplane.control_scheduler).

#include <string>

namespace kgw {

// Sets the calling thread's nice value to -priority (threads it creates
// later inherit it). False, with the reason, when the system refuses (no
// CAP_SYS_NICE): the thread keeps the nice it had.
bool raise_thread_priority(unsigned priority, std::string& why);

// The real-time priority of `control_scheduler: fifo`, the main lcore's and
// control's publisher's alike: neither preempts the other (the main lcore
// wakes every 100 us to look at its duties; above control it would cut
// into every pass), and each runs while the other sleeps (a publish waits
// for the main lcore's reply asleep).
inline constexpr int control_fifo_priority = 1;

// Moves the calling thread to SCHED_FIFO at `priority` (1..99): it runs as
// soon as it wakes, ahead of every time-shared thread on its CPU, however
// long those slept. False, with the reason, when the system refuses.
bool set_thread_fifo(int priority, std::string& why);

// Moves the calling thread back to time sharing (SCHED_OTHER), keeping its
// nice value: for long work that must not starve the CPU's other threads.
// True when it already is.
bool set_thread_time_shared(std::string& why);

}  // namespace kgw
