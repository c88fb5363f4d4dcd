// Tables the main lcore swapped out, kept until nothing can read them: past
// the workers' grace period (rte_rcu_qsbr) and two seconds more for readers
// in other processes (the CLI copies what the shared state points at).
#pragma once

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <vector>

namespace kgw {

template <typename T, void (*free_table)(T*)>
class retired_tables {
 public:
  // `t` was just replaced; the workers may still hold it.
  void retire(rte_rcu_qsbr* qsbr, T* t) {
    if (t) pending_.push_back({t, rte_rcu_qsbr_start(qsbr), rte_get_tsc_cycles() + 2 * rte_get_tsc_hz()});
  }
  // Frees what nothing reads any more; `all` at shutdown (the workers have stopped).
  void reclaim(rte_rcu_qsbr* qsbr, bool all) {
    uint64_t now = rte_get_tsc_cycles();
    for (size_t i = 0; i < pending_.size();) {
      if (all || (now >= pending_[i].free_after_tsc && rte_rcu_qsbr_check(qsbr, pending_[i].token, false) == 1)) {
        free_table(pending_[i].t);
        pending_[i] = pending_.back();
        pending_.pop_back();
      } else {
        ++i;
      }
    }
  }

 private:
  struct retired {
    T* t;
    uint64_t token;
    uint64_t free_after_tsc;
  };
  std::vector<retired> pending_;
};

}  // namespace kgw
