#include "dataplane/request_log_memory.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <fmt/format.h>

namespace kgw {

namespace {
// A mempool is best sized 2^n - 1; the ring holds as many.
constexpr unsigned pool_records = proxy::access_records_per_worker - 1;
}  // namespace

bool request_log_memory::create(const std::vector<int>& sockets, uint32_t slots, bool access_log, std::string& error) {
  slots_ = slots;
  uint64_t bytes = uint64_t{sizeof(proxy::route_stat)} * slots * sockets.size();
  stats_ = static_cast<proxy::route_stat*>(rte_zmalloc("kgw_route_stats", bytes, 64));
  if (!stats_) {
    error = fmt::format("cannot allocate {} KiB for the per-route statistics (ingress.max_route_stats {})",
                        bytes / 1024, slots);
    return false;
  }
  if (!access_log) return true;
  for (unsigned w = 0; w < sockets.size(); ++w) {
    std::string pname = fmt::format("{}{}", proxy::access_pool_prefix, w);
    std::string rname = fmt::format("{}{}", proxy::access_ring_prefix, w);
    rte_mempool* p = rte_mempool_create(pname.c_str(), pool_records, sizeof(proxy::access_record), 32, 0, nullptr,
                                        nullptr, nullptr, nullptr, sockets[w], 0);
    rte_ring* r = p ? rte_ring_create(rname.c_str(), proxy::access_records_per_worker, sockets[w],
                                      RING_F_SP_ENQ | RING_F_SC_DEQ)
                    : nullptr;
    if (p) pools_.push_back(p);
    if (r) rings_.push_back(r);
    if (!p || !r) {
      error = fmt::format("cannot create the access log's records of worker {}: {}", w, rte_strerror(rte_errno));
      return false;
    }
  }
  return true;
}

void request_log_memory::release() {
  for (rte_ring* r : rings_) rte_ring_free(r);
  for (rte_mempool* p : pools_) rte_mempool_free(p);
  rings_.clear();
  pools_.clear();
  rte_free(stats_);
  stats_ = nullptr;
}

proxy::access_log_queue request_log_memory::queue(unsigned worker, const volatile int32_t* reader) const {
  proxy::access_log_queue q;
  q.worker = static_cast<uint16_t>(worker);
  q.reader = reader;
  if (worker < pools_.size() && worker < rings_.size()) {
    q.pool = pools_[worker];
    q.ring = rings_[worker];
  }
  return q;
}

uint64_t request_log_memory::memory_size(unsigned workers, uint32_t slots, bool access_log) {
  uint64_t b = uint64_t{sizeof(proxy::route_stat)} * slots * workers;
  if (access_log)
    b += workers * (rte_mempool_calc_obj_size(sizeof(proxy::access_record), 0, nullptr) * uint64_t{pool_records} +
                    rte_ring_get_memsize(proxy::access_records_per_worker) + 65536);
  return b;
}

}  // namespace kgw
