// The Prometheus text endpoint: the dataplane's counters as text exposition
// format 0.0.4, served by a slow-path thread on a loopback address (gateway.yaml
// `metrics.listen`). Workers are not involved: the thread reads the shared
// counters the way the CLI does.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "dataplane/config/gateway_config.h"
#include "pipelines/contract/shared_state.h"

namespace kgw {

// Every metric: per port (NIC and kgw counters), per worker, drops by reason,
// local and service stage counters, connection tables, per Service port and per
// endpoint, the table generation and the control process's last update.
std::string format_prometheus(const shared_state& s);

class metrics_server {
 public:
  metrics_server() = default;
  ~metrics_server() { stop(); }
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  // Binds and starts serving; false with error() when the address cannot be bound.
  bool start(const metrics_config& cfg, const shared_state* state);
  void stop();
  const std::string& error() const { return error_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  void serve();
  void answer(int fd);

  int listen_fd_ = -1;
  const shared_state* state_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
  std::string error_;
};

}  // namespace kgw
