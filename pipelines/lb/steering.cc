#include "pipelines/lb/steering.h"

#include <rte_byteorder.h>
#include <rte_thash.h>

namespace kgw {

int rss_queue(const rss_port& r, const flow_key& k) {
  if (!r.enabled || r.reta_size == 0) return -1;
  // rte_softrss takes the tuple as host-order 32-bit words: addresses, then
  // source and destination port in one word.
  uint32_t words[10];
  unsigned n = 0;
  unsigned addr_words = k.family == 4 ? 1 : 4;
  for (unsigned i = 0; i < addr_words; ++i) {
    uint32_t w;
    std::memcpy(&w, k.src + 4 * i, 4);
    words[n++] = rte_be_to_cpu_32(w);
  }
  for (unsigned i = 0; i < addr_words; ++i) {
    uint32_t w;
    std::memcpy(&w, k.dst + 4 * i, 4);
    words[n++] = rte_be_to_cpu_32(w);
  }
  words[n++] = static_cast<uint32_t>(rte_be_to_cpu_16(k.sport)) << 16 | rte_be_to_cpu_16(k.dport);
  uint32_t h = rte_softrss(words, n, r.key);
  return r.reta[h % r.reta_size];
}

}  // namespace kgw
