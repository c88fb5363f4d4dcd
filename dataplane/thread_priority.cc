#include "dataplane/thread_priority.h"

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

}  // namespace kgw
