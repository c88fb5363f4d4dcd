// What the live dataplane and the replay tool share: EAL up, ports up from
// their profiles, mempools, shared state, rings and worker configs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "dataplane/config/nic_profile.h"
#include "dataplane/eal.h"
#include "dataplane/exception/exception_path.h"
#include "dataplane/request_log_memory.h"
#include "pipelines/contract/shared_state.h"
#include "dataplane/neighbor/neighbor_service.h"
#include "dataplane/publish/pod_route_publisher.h"
#include "dataplane/publish/policy_publisher.h"
#include "dataplane/service_runtime.h"
#include "dataplane/tls_runtime.h"
#include "dataplane/worker.h"
#include "pipelines/local/local.h"

struct rte_mempool;
struct rte_memzone;
struct rte_ring;

namespace kgw {

struct runtime_options {
  const gateway_config* cfg;
  std::string profiles_dir;
  std::vector<std::string> eal_args;  // complete argv for EAL
  bool rx_timestamps = false;         // replay: take time from the capture
  service_runtime::initial_publish initial_services;  // Services running from the start; empty = none
  // The TCP stacks' secret seed (ISNs, SYN cookies, timestamp offsets). Unset:
  // a random one; replay sets it, so that the same capture gives the same output.
  std::optional<uint64_t> tcp_seed;
  // The manifests it started with hold one of kgw's Ingresses: the HTTP
  // proxy must run (docs/proxy.md "When it runs").
  bool http_proxy = false;
  // Ingresses may be published while it runs (kgw control): the proxy runs
  // whenever the configuration allows, Ingress or not. Replay: false.
  bool ingress_at_run_time = false;
  // The exception path to the kernel (gateway.yaml `exception`), when
  // configured: the live dataplane's; a replay has no kernel interfaces.
  bool exception = false;
  // Certificates that serve from the start (the manifests' TLS Secrets);
  // empty: the self-signed certificate alone until control publishes.
  initial_tls_publish initial_tls;
  initial_pod_routes_publish initial_pod_routes;  // the manifests' Nodes; empty: none until control publishes
  initial_policy_publish initial_policy;          // the manifests' NetworkPolicies; empty: none until control publishes
};

class runtime {
 public:
  runtime() = default;
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Brings everything up; on failure returns false with a message in error().
  bool start(const runtime_options& o);
  const std::string& error() const { return error_; }

  shared_state& state() { return *state_; }
  worker_conf& worker(unsigned i) { return *workers_[i]; }
  unsigned n_workers() const { return static_cast<unsigned>(workers_.size()); }
  const std::vector<uint16_t>& port_ids() const { return port_ids_; }

  // Main-lcore duties: port stats snapshot, command ring service.
  void snapshot_port_stats();
  void serve_commands();
  // The neighbour resolver's turn, on the workers' clock (the capture's in a replay).
  void poll_neighbors();
  // The exception path's turn: packets to the kernel, the kernel's out.
  void poll_exception();
  void stop_ports();

 private:
  bool init_eal(const runtime_options& o);
  bool bring_up_ports(const runtime_options& o);
  bool create_shared(const runtime_options& o);
  void build_local_table();
  bool build_workers(const runtime_options& o);
  bool build_tcp(const runtime_options& o);
  bool build_tls(const runtime_options& o);
  bool build_pod_network();
  void clear_stats(uint64_t port);

  std::unique_ptr<eal_session> eal_;
  std::string error_;
  const gateway_config* cfg_ = nullptr;
  std::vector<nic_profile> profiles_;
  std::vector<uint16_t> port_ids_;     // index in cfg.ports -> ethdev port id
  std::vector<rte_mempool*> pools_;    // by NUMA socket
  const rte_memzone* zone_ = nullptr;
  shared_state* state_ = nullptr;
  local_table* local_ = nullptr;
  dns_stage_table* dns_ = nullptr;  // nullptr: no dns section
  rte_ring* cmd_ring_ = nullptr;
  rte_ring* reply_ring_ = nullptr;
  std::vector<rte_ring*> punt_rings_;  // the DNS forwarder's reply rings too
  std::vector<rte_ring*> handoff_rings_;
  request_log_memory request_log_;  // the proxy's per-route stats and access log records
  static constexpr unsigned handoff_ring_size = 1024;
  std::vector<worker_conf*> workers_;
  std::vector<worker_tcp*> tcp_;  // by worker
  service_runtime services_;
  tls_runtime tls_;
  neighbor_service neighbors_;
  exception_path exception_;
  pod_network_conf* pod_network_ = nullptr;  // gateway.yaml's pod_network, as the workers read it
  pod_route_publisher pod_routes_;
  policy_publisher policy_;  // NetworkPolicy for new Service flows (the lb stage)
  uint64_t now_ns() const;
  bool ports_started_ = false;
};

// The final-stats dump printed on exit (ports, lcores, drop reasons).
std::string final_stats(const shared_state& s);

}  // namespace kgw
