// One worker in plain memory, driven through kgw_pipeline_burst (the one
// place that knows the stage order): what it queues for TX is collected from
// its TX buffers instead of reaching a NIC. Needs mbufs (eal_main.cc).
#pragma once

#include <memory>
#include <vector>

#include "dataplane/worker.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/mbufs.h"

namespace kgw::test {

struct worker_harness {
  std::unique_ptr<worker_conf> w = std::make_unique<worker_conf>();
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  lcore_counters counters{};
  local_table local{};
  conn_table_fixture ct;
  std::vector<uint8_t> aff_mem = std::vector<uint8_t>(affinity_table::memory_size(256));
  affinity_table aff;
  service_directory* directory = nullptr;  // what the worker loads per burst

  explicit worker_harness(uint32_t conns = 256) : ct(conns) {
    aff.init(aff_mem.data(), 256);
    w->counters = &counters;
    w->local = &local;
    w->n_ports = max_ports;
    w->services = &directory;
    w->now_ns = 1000;
    w->conntrack.table = &ct.table;
    w->lb.nexthops = nh.get();
    w->lb.affinity = &aff;
    w->nat.counted = &w->lb.counters;
    w->nexthops = nh.get();
  }

  // The frames through the pipeline as one burst, a microsecond after the
  // last; returns what it queued for TX (port by port, in order). Dropped
  // packets are freed by the pipeline.
  std::vector<bytes> send(const std::vector<bytes>& frames) {
    w->now_ns += 1000;
    std::vector<rte_mbuf*> pkts;
    for (const bytes& f : frames) pkts.push_back(mbuf_of(f));
    kgw_pipeline_burst(*w, pkts.data(), static_cast<uint16_t>(pkts.size()));
    std::vector<bytes> out;
    for (tx_buffer& b : w->tx) {
      for (uint16_t i = 0; i < b.n; ++i) out.push_back(bytes_of(b.pkts[i]));
      if (b.n) rte_pktmbuf_free_bulk(b.pkts, b.n);
      b.n = 0;
    }
    return out;
  }
};

}  // namespace kgw::test
