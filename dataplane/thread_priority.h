#pragma once
// The slow path's scheduling priority (gateway.yaml dataplane.control_priority).

#include <string>

namespace kgw {

// Sets the calling thread's nice value to -priority (threads it creates
// later inherit it). False, with the reason, when the system refuses (no
// CAP_SYS_NICE): the thread keeps the nice it had.
bool raise_thread_priority(unsigned priority, std::string& why);

}  // namespace kgw
