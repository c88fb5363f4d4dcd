// How many connection-table buckets the live worker's expiry step examines:
// paced by time, not by poll loops. Eight buckets per loop (the replay's
// pace) is some 80 million buckets a second on an idle worker, each a cache
// miss in a table of megabytes, and the largest part of an idle loop and of
// the proxy's profile (perf/README.md, the proxy's section); a bucket per
// microsecond still sweeps the default table (131,072 buckets) in 0.13 s, well
// inside the shortest timeout, and expired entries found by a lookup go at once
// anyway. Pure: the caller reads the clock.
#pragma once

#include <cstdint>

namespace kgw {

struct expiry_pace {
  uint64_t ns_per_bucket = 1000;
  unsigned max_step = 256;   // the most at once: a late step is never a pause
  uint64_t last_ns = 0;      // the time the buckets already examined were due up to

  // Buckets due at now_ns since the last call.
  unsigned due(uint64_t now_ns) {
    if (now_ns <= last_ns) return 0;
    uint64_t n = (now_ns - last_ns) / ns_per_bucket;
    if (n >= max_step) {
      // Behind (the first call, or the worker held up): no debt carried over.
      last_ns = now_ns;
      return max_step;
    }
    last_ns += n * ns_per_bucket;
    return static_cast<unsigned>(n);
  }
};

}  // namespace kgw
