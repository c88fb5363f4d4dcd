#include "dataplane/command_bell.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace kgw {

void bell_ring(uint32_t* bell) {
  __atomic_fetch_add(bell, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, bell, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void bell_wait(uint32_t* bell, uint32_t mark, unsigned timeout_us) {
  timespec t{static_cast<time_t>(timeout_us / 1000000), static_cast<long>(timeout_us % 1000000) * 1000};
  // EAGAIN (it rang after the mark), ETIMEDOUT and EINTR all mean: look again.
  syscall(SYS_futex, bell, FUTEX_WAIT, mark, &t, nullptr, 0);
}

}  // namespace kgw
