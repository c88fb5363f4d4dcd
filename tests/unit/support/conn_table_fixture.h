// A connection table in ordinary memory for tests, with a removal hook that
// records what the table let go.
#pragma once

#include <cstdlib>
#include <memory>
#include <vector>

#include "pipelines/conntrack/conn_table.h"

namespace kgw::test {

struct conn_table_fixture {
  explicit conn_table_fixture(uint32_t cap, conn_timeouts t = {}) {
    mem.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (conn_table::memory_size(cap) + 63) & ~size_t(63))));
    table.init(mem.get(), cap, t);
  }

  // The hook to pass the table: appends each removed connection to `removed`.
  conn_removal gone() {
    return {[](void* self, const conn& c) { static_cast<conn_table_fixture*>(self)->removed.push_back(c); }, this};
  }

  uint32_t insert(const flow_key& orig, const flow_key& reply, uint8_t proto, uint8_t flags, uint64_t now) {
    return table.insert(orig, flow_hash(orig), reply, flow_hash(reply), proto, flags, now, gone());
  }
  conn_hit lookup(const flow_key& k, uint64_t now) { return table.lookup(k, flow_hash(k), now, gone()); }

  struct free_deleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, free_deleter> mem;
  conn_table table;
  std::vector<conn> removed;
};

}  // namespace kgw::test
