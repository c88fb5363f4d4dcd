// A NIC family's settings (nic-profiles/<name>.yaml): descriptor and queue
// counts, RSS, offloads, MTU and the rte_flow features worth probing. The
// dataplane applies a profile and falls back (logged once) where the device
// reports it cannot do something.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

struct nic_profile {
  std::string name;                  // file stem: "ixgbe"
  std::string file;                  // path it was read from
  std::vector<std::string> drivers;  // DPDK driver names that `profile: auto` maps here ("net_ixgbe")
  std::string source;                // where the values come from (datasheet, DPDK feature matrix)
  unsigned rx_desc = 1024;
  unsigned tx_desc = 1024;
  unsigned max_queues = 0;           // 0 = what the device reports
  uint64_t rss_hf = 0;               // RTE_ETH_RSS_* bits; 0 = no RSS
  std::vector<std::string> rss_types;  // as written, for display
  std::vector<uint8_t> rss_key;      // empty = device default
  uint64_t rx_offloads = 0;          // RTE_ETH_RX_OFFLOAD_* bits to request if the device has them
  uint64_t tx_offloads = 0;          // RTE_ETH_TX_OFFLOAD_*
  std::vector<std::string> rx_offload_names, tx_offload_names;
  unsigned mtu = 1500;
  bool promiscuous = false;
  std::vector<std::string> flow_features;  // rte_flow features to try: "queue", "rss", "mark", ...
};

// Loads one profile file; errors name file, line and field.
std::optional<nic_profile> load_nic_profile(const std::string& path,
                                            std::vector<config_error>& errors);
std::optional<nic_profile> parse_nic_profile(const std::string& text, const std::string& file_name,
                                             std::vector<config_error>& errors);

// Loads every *.yaml in dir (errors for any bad file).
std::vector<nic_profile> load_nic_profiles(const std::string& dir, std::vector<config_error>& errors);

// `profile: auto`: the profile listing this driver name, or nullptr.
const nic_profile* profile_for_driver(const std::vector<nic_profile>& profiles,
                                      const std::string& driver_name);
const nic_profile* profile_by_name(const std::vector<nic_profile>& profiles, const std::string& name);

}  // namespace kgw
