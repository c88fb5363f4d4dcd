// A counter area in plain memory for tests (the dataplane's lives in hugepages).
#pragma once

#include <cstdint>
#include <vector>

#include "pipelines/lb/lb_counter_area.h"

namespace kgw::test {

struct test_area {
  std::vector<uint64_t> identity, retired;
  std::vector<lb_slot_info> info;
  std::vector<uint8_t> serving;
  std::vector<std::vector<lb_counters>> counters;
  std::vector<std::vector<endpoint_http_counters>> http;  // empty: no HTTP rows (add_http)
  lb_counter_area a{};
  test_area(uint32_t n_slots, unsigned n_workers)
      : identity(n_slots), retired(n_slots), info(n_slots), serving(n_slots),
        counters(n_workers, std::vector<lb_counters>(n_slots)) {
    a.magic = lb_counter_area_magic;
    a.n_slots = n_slots;
    a.n_workers = n_workers;
    a.identity = identity.data();
    a.retired_at = retired.data();
    a.info = info.data();
    a.serving = serving.data();
    for (unsigned w = 0; w < n_workers; ++w) a.counters[w] = counters[w].data();
  }
  // The HTTP proxy's rows, as when the workers run it.
  void add_http() {
    http.assign(a.n_workers, std::vector<endpoint_http_counters>(a.n_slots));
    for (unsigned w = 0; w < a.n_workers; ++w) a.http[w] = http[w].data();
  }
};

}  // namespace kgw::test
