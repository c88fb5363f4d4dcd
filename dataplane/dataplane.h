// The dataplane process (DPDK primary): EAL, mempools, ports from NIC
// profiles, shared state and rings for control, workers, main-lcore duties
// (stats snapshots, commands), clean shutdown with final stats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "dataplane/service_runtime.h"
#include "dataplane/publish/pod_route_publisher.h"
#include "dataplane/publish/policy_publisher.h"
#include "dataplane/tls_runtime.h"

namespace kgw {

struct dataplane_options {
  gateway_config cfg;
  std::string profiles_dir;
  std::vector<std::string> eal_extra;  // after `--` on the command line
  bool print_stats_on_exit = true;
  service_runtime::initial_publish initial_services;  // Services running from the start (until control publishes)
  bool http_proxy = false;  // the starting manifests hold an Ingress: the HTTP proxy must run
  initial_tls_publish initial_tls;  // their certificates
  initial_pod_routes_publish initial_pod_routes;  // their Nodes' pod CIDRs
  initial_policy_publish initial_policy;          // their NetworkPolicies' rules
};

// Runs until SIGINT/SIGTERM. Returns the process exit code.
int run_dataplane(dataplane_options opts);

struct replay_options {
  gateway_config cfg;
  std::string profiles_dir;
  service_runtime::initial_publish initial_services;
  std::string in_pcap;
  std::string out_pcap;
  std::vector<std::string> eal_extra;
  bool quiet = false;
  uint64_t tcp_seed = 0;  // the TCP stack's secrets: fixed, so that output is a function of the input
  bool http_proxy = false;
  initial_tls_publish initial_tls;
  initial_pod_routes_publish initial_pod_routes;
  initial_policy_publish initial_policy;
};

// Offline replay: the config's first port reads in_pcap and writes out_pcap,
// one worker runs on the main lcore until the capture is consumed; output
// timestamps are the capture time of the packet each output came from.
int run_replay(replay_options opts);

}  // namespace kgw
