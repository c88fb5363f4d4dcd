// Real mbufs for tests of the burst functions: the pool comes from eal_main.cc
// (an EAL without hugepages or devices), linked into every binary that uses it.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <vector>

#include "tests/unit/support/packet_builder.h"

namespace kgw::test {

rte_mempool* mbuf_pool();

// A one-segment mbuf holding frame `f`, received on `port`.
inline rte_mbuf* mbuf_of(const bytes& f, uint16_t port = 0) {
  rte_mbuf* m = rte_pktmbuf_alloc(mbuf_pool());
  EXPECT_NE(m, nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  m->port = port;
  return m;
}

// The frame an mbuf holds now (first segment).
inline bytes bytes_of(const rte_mbuf* m) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return bytes(p, p + rte_pktmbuf_data_len(m));
}

// A burst of mbufs, freed with the object.
struct mbuf_burst {
  std::vector<rte_mbuf*> pkts;
  mbuf_burst() = default;
  explicit mbuf_burst(const std::vector<bytes>& frames, uint16_t port = 0) {
    for (const bytes& f : frames) pkts.push_back(mbuf_of(f, port));
  }
  mbuf_burst(const mbuf_burst&) = delete;
  mbuf_burst& operator=(const mbuf_burst&) = delete;
  ~mbuf_burst() {
    if (!pkts.empty()) rte_pktmbuf_free_bulk(pkts.data(), static_cast<unsigned>(pkts.size()));
  }
  rte_mbuf* const* data() const { return pkts.data(); }
  uint16_t size() const { return static_cast<uint16_t>(pkts.size()); }
  bytes frame(size_t i) const { return bytes_of(pkts[i]); }
};

}  // namespace kgw::test
