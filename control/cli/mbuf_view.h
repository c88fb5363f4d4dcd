// `show mbufs`: the dataplane's packet buffer pools as the EAL shares them
// (a secondary reads the pool's ring and per-lcore caches): mbufs in use, of
// how many, and the bytes of one. What proves that idle connections hold no
// buffers (perf/proxy/run counts them before and after opening thousands).
#pragma once

#include <string>

namespace kgw {

std::string format_mbufs();

}  // namespace kgw
