// The apply side of the pod routes: control hands over a pod_route_list
// (plain data in shared memory); the main lcore builds the tries the workers
// look destinations up in (pipelines/route/pod_route_table.h), swaps them in
// whole, and frees the replaced ones after the workers' grace period
// (rte_rcu_qsbr) and two seconds more for readers in other processes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dataplane/publish/retired_tables.h"
#include "pipelines/route/pod_route_table.h"

struct rte_rcu_qsbr;

namespace kgw {

// The FIBs over `l`, named after `generation`; the table takes `l` over
// (freed with it). nullptr with `error` when `l` is invalid or memory is
// short: `l` is then still the caller's.
pod_route_table* build_pod_route_table(const pod_route_list* l, uint64_t generation, std::string& error);
void free_pod_route_table(pod_route_table* t);

class pod_route_publisher {
 public:
  pod_route_publisher() = default;
  ~pod_route_publisher();
  pod_route_publisher(const pod_route_publisher&) = delete;
  pod_route_publisher& operator=(const pod_route_publisher&) = delete;

  // `shared`: where the CLI finds the list (shared_state::pod_routes).
  void init(rte_rcu_qsbr* qsbr, const pod_route_list** shared) {
    qsbr_ = qsbr;
    shared_ = shared;
  }
  // Where the workers load the table once per burst.
  const pod_route_table* const* slot() const { return &current_; }
  // Takes `l` (a live block); false with `error` when it is not valid (`l` stays the caller's).
  bool apply(pod_route_list* l, std::string& error);
  uint64_t generation() const { return generation_; }
  // Frees what the workers and readers are done with; `all` at shutdown.
  void reclaim(bool all = false);
  // Frees everything, the running table too (the workers have stopped); before the EAL goes.
  void release();

 private:
  rte_rcu_qsbr* qsbr_ = nullptr;
  const pod_route_list** shared_ = nullptr;
  pod_route_table* current_ = nullptr;
  uint64_t generation_ = 0;
  retired_tables<pod_route_table, free_pod_route_table> retired_;
};

// Pod routes that run from the dataplane's start (`kgw dataplane
// --manifests`, `kgw replay`), published before any worker runs.
using initial_pod_routes_publish = std::function<bool(pod_route_publisher&, std::string& error)>;

}  // namespace kgw
