// The memory of the HTTP proxy's per-request records: the per-route stat
// rows of every worker (pipelines/l7/proxy/route_stats.h) and, with
// ingress.access_log set, each worker's access record pool and ring
// (pipelines/l7/proxy/access_record.h) that the control process drains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/l7/proxy/access_record.h"
#include "pipelines/l7/proxy/route_stats.h"

struct rte_mempool;
struct rte_ring;

namespace kgw {

class request_log_memory {
 public:
  request_log_memory() = default;
  request_log_memory(const request_log_memory&) = delete;
  request_log_memory& operator=(const request_log_memory&) = delete;
  ~request_log_memory() { release(); }

  // `sockets`: each worker's NUMA socket. False with `error` when memory is short.
  bool create(const std::vector<int>& sockets, uint32_t slots, bool access_log, std::string& error);
  void release();

  proxy::route_stat* stats() const { return stats_; }
  proxy::route_stat* row(unsigned worker) const { return stats_ ? stats_ + uint64_t{worker} * slots_ : nullptr; }
  uint32_t slots() const { return slots_; }
  // The worker's hand-over (pool and ring nullptr without an access log).
  proxy::access_log_queue queue(unsigned worker, const volatile int32_t* reader) const;

  // The bytes create() takes for `workers`, for the memory plan.
  static uint64_t memory_size(unsigned workers, uint32_t slots, bool access_log);

 private:
  proxy::route_stat* stats_ = nullptr;
  uint32_t slots_ = 0;
  std::vector<rte_mempool*> pools_;
  std::vector<rte_ring*> rings_;
};

}  // namespace kgw
