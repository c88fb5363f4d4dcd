#include "dataplane/control_status.h"

#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include "dataplane/publish/counter_slots.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

control_status read_control_status(const shared_state& s) {
  control_status c{};
  for (int tries = 0; tries < 1000; ++tries) {
    uint32_t before = __atomic_load_n(&s.control.seq, __ATOMIC_ACQUIRE);
    if (before & 1) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    std::memcpy(static_cast<void*>(&c), const_cast<const control_status*>(&s.control), sizeof c);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s.control.seq, __ATOMIC_ACQUIRE) == before) return c;
  }
  return c;  // a writer that never finishes: show what is there
}

bool control_alive(const control_status& c) { return c.pid > 0 && (kill(c.pid, 0) == 0 || errno == EPERM); }


}  // namespace kgw
