// Building, publishing and reclaiming service generations. Any DPDK process
// of the same runtime can build one (rte_malloc memory is shared); the
// dataplane's main lcore swaps it in and frees the old one after every worker
// has passed a quiescent state (rte_rcu_qsbr) and a grace delay for readers
// such as `kgw cli`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/lb_counter_slots.h"
#include "pipelines/service/service_generation.h"

struct rte_rcu_qsbr;

namespace kgw {

// One block: header and the compiled tables (`blob`), whose groups and
// endpoints get their slots in `counters` (nullptr: not counted) while `live`
// is the number of the generation in use. nullptr with `error` when memory is
// short. `slots`, when given, receives what the slot assignment did.
service_generation* build_generation(const std::vector<uint64_t>& blob, unsigned n_workers, uint64_t number,
                                     lb_counter_area* counters, uint64_t live, std::string& error,
                                     slot_assignment* slots = nullptr);
void free_generation(service_generation* g);

// Checks a generation handed over by another process before it is used: a
// live block, built for these workers and this dataplane's counter area.
bool generation_valid(const service_generation* g, unsigned n_workers, const lb_counter_area* counters,
                      std::string& why);

// The dataplane's side: the slot workers read, RCU, deferred frees.
class generation_publisher {
 public:
  generation_publisher() = default;
  ~generation_publisher();
  generation_publisher(const generation_publisher&) = delete;
  generation_publisher& operator=(const generation_publisher&) = delete;

  // `slot` is where workers load the current generation from (shared memory).
  bool init(const service_generation** slot, unsigned n_workers, std::string& error);
  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  // Swaps `g` in, waits for the workers' grace period, queues the old one for freeing.
  void publish(service_generation* g);
  // Frees what has waited long enough; call from the main loop.
  void reclaim(bool all = false);
  // Workers stopped: frees every generation and the RCU state (before EAL goes).
  void shutdown();

 private:
  const service_generation** slot_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  struct pending {
    service_generation* g;
    uint64_t free_after_tsc;
  };
  std::vector<pending> pending_;
};

}  // namespace kgw
