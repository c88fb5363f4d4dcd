#include "dataplane/thread_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kgw {

bool raise_thread_priority(unsigned priority, std::string& why) {
  // On Linux a nice value is a thread's: PRIO_PROCESS with a thread id sets that thread's.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -static_cast<int>(priority)) == 0) return true;
  why = std::strerror(errno);
  return false;
}

bool set_thread_fifo(int priority, std::string& why) {
  sched_param p{};
  p.sched_priority = priority;
  // sched_setscheduler with a thread id sets that thread's policy alone.
  if (sched_setscheduler(gettid(), SCHED_FIFO, &p) == 0) return true;
  why = std::strerror(errno);
  return false;
}

bool set_thread_time_shared(std::string& why) {
  if (sched_getscheduler(gettid()) == SCHED_OTHER) return true;
  sched_param p{};
  if (sched_setscheduler(gettid(), SCHED_OTHER, &p) == 0) return true;
  why = std::strerror(errno);
  return false;
}

}  // namespace kgw
