// A Service directory in ordinary memory for tests: compiled records put into
// slots through the same directory_swap the dataplane's main lcore uses.
#pragma once

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "control/services/service_compiler.h"
#include "pipelines/lb/service_directory.h"

namespace kgw::test {

class directory_fixture {
 public:
  explicit directory_fixture(uint32_t capacity = 64, uint32_t index_words = 1024, lb_counter_area* counters = nullptr)
      : dir_mem_((directory_bytes(capacity) + 7) / 8), index_mem_((index_bytes(index_words) + 7) / 8) {
    directory_init(dir(), capacity, 1, counters);
    index_init(index(), index_words);
    dir().index = &index();
  }

  service_directory& dir() { return *reinterpret_cast<service_directory*>(dir_mem_.data()); }
  frontend_index& index() { return *reinterpret_cast<frontend_index*>(index_mem_.data()); }

  void set_snat_v4(const ip_addr& a) {
    std::memcpy(dir().snat_v4, a.b.data(), 4);
    dir().has_snat_v4 = 1;
  }

  // Puts a copy of `record` (empty: none) into `slot`; returns the copy, which
  // stays allocated for the fixture's life (as an RCU-deferred free would).
  service_record* put(uint32_t slot, const std::vector<uint64_t>& record) {
    service_record* r = nullptr;
    if (!record.empty()) {
      records_.push_back(record);
      r = reinterpret_cast<service_record*>(records_.back().data());
    }
    directory_swap(dir(), index(), slot, r);
    dir().number++;
    return r;
  }

  // Every compiled Service into slots 0, 1, ...
  void put_all(const std::vector<compiled_service>& compiled) {
    for (size_t i = 0; i < compiled.size(); ++i) put(static_cast<uint32_t>(i), *compiled[i].record);
  }

 private:
  std::vector<uint64_t> dir_mem_, index_mem_;
  std::deque<std::vector<uint64_t>> records_;
};

}  // namespace kgw::test
