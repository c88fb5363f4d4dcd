// The dataplane side of Services: the Service directory and its publisher,
// and every worker's connection table,
// affinity memory, SNAT port range and counters, all in rte_malloc memory on
// the worker's socket. Services to run from the start come from the caller
// (the `kgw dataplane --manifests` and `kgw replay` front ends compile them).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "dataplane/publish/directory_publisher.h"
#include "pipelines/contract/shared_state.h"
#include "dataplane/worker.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/l7/connect/connect_ranges.h"
#include "pipelines/lb/steering.h"

namespace kgw {

class service_runtime {
 public:
  service_runtime() = default;
  ~service_runtime();
  service_runtime(const service_runtime&) = delete;
  service_runtime& operator=(const service_runtime&) = delete;

  // Publishes the Services that run from the start into a directory this
  // process owns, before any worker runs; false with `error` set when it cannot.
  using initial_publish = std::function<bool(directory_publisher&, std::string& error)>;

  void configure(const gateway_config& cfg, initial_publish initial) {
    cfg_ = &cfg;
    initial_ = std::move(initial);
  }
  // Which worker owns what: SNAT port slices and each port's RSS (read back
  // from the device) for steering replies, and rte_flow rules for them where
  // the port takes them (`ports`: what setup probed); call after the ports
  // are up.
  bool build_steering(unsigned n_workers, const std::vector<uint16_t>& port_ids, const shared_port_info* ports,
                      const connect_ranges& connect);
  // Per-worker state; call once per worker after build_steering, with the
  // next-hop table published (neighbor_service::start).
  bool attach(worker_conf& w, unsigned n_workers, int socket, shared_state& st);
  // After every worker is attached: the counter area, the directory, RCU and
  // the initial Services.
  bool start_publishing(unsigned n_workers, shared_state& st);
  directory_publisher& publisher() { return publisher_; }
  const std::string& error() const { return error_; }
  // Frees everything; must run before EAL goes away.
  void release();
  const steering_table* steering() const { return steering_; }

 private:
  std::string error_;
  initial_publish initial_;
  directory_publisher publisher_;
  steering_table* steering_ = nullptr;
  lb_counter_area* counters_ = nullptr;  // outlives records; freed last
  std::vector<void*> allocations_;
  const gateway_config* cfg_ = nullptr;
};

}  // namespace kgw
