// Brings one ethdev port up from its NIC profile: queues, descriptors, RSS,
// offloads, MTU, MAC, rte_flow probing. What the device cannot do is logged
// once and dropped from the request rather than failing the port.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/config/gateway_config.h"
#include "dataplane/config/nic_profile.h"
#include "pipelines/contract/shared_state.h"

struct rte_mempool;

namespace kgw {

struct port_request {
  const port_config* cfg;
  const nic_profile* profile;
  uint16_t port_id;
  uint16_t n_queues;        // one RX and one TX queue per worker
  unsigned rx_desc_override = 0;
  unsigned tx_desc_override = 0;
  bool want_rx_timestamp = false;  // replay takes packet time from the pcap
};

// Configures and starts the port; fills `info`. On failure returns false with `error` set.
bool setup_port(const port_request& req, rte_mempool* pool, shared_port_info& info,
                std::string& error);

// Probes which rte_flow features the port accepts (rte_flow_validate, nothing installed).
uint32_t probe_flow_features(uint16_t port_id, const nic_profile& profile, std::string& log);

std::string flow_features_to_string(uint32_t features);

// Ticks per second of the port's RX timestamps (NICs do not all count in
// nanoseconds), or 0 with `error` set when the port cannot tell.
uint64_t rx_timestamp_hz(uint16_t port_id, std::string& error);

}  // namespace kgw
