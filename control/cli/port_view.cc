#include "control/cli/port_view.h"

#include <rte_ethdev.h>

#include <fmt/format.h>

#include "pipelines/common/net_types.h"

namespace kgw {

std::string format_port_info(const shared_state& s, unsigned port) {
  const shared_port_info& p = s.ports[port];
  mac_addr m;
  for (int i = 0; i < 6; ++i) m.b[i] = p.mac[i];
  std::string out = fmt::format("\n********************* Infos for port {:<2} ({}) *********************\n", port, p.name);
  out += fmt::format("MAC address: {}\nDevice: {}\nDriver name: {}\nNIC profile: {}\nConnect to socket: {}\n",
                     to_string(m), p.device, p.driver, p.profile, p.socket);
  out += fmt::format("Link status: {}\nLink speed: {} Mbps\nMTU: {}\n", s.port_stats[port].link_up ? "up" : "down",
                     s.port_stats[port].link_speed_mbps, p.mtu);
  out += fmt::format("RX queues: {} ({} descriptors)\nTX queues: {} ({} descriptors)\n", p.nb_rxq, p.rx_desc,
                     p.nb_txq, p.tx_desc);
  out += fmt::format("RSS hash types: 0x{:x}\n", p.rss_hf);
  std::string rx, tx;
  for (uint64_t b = 1; b; b <<= 1) {
    if (p.rx_offloads & b) rx += std::string(rx.empty() ? "" : " ") + rte_eth_dev_rx_offload_name(b);
    if (p.tx_offloads & b) tx += std::string(tx.empty() ? "" : " ") + rte_eth_dev_tx_offload_name(b);
  }
  out += fmt::format("RX offloads: {}\nTX offloads: {}\n", rx.empty() ? "none" : rx, tx.empty() ? "none" : tx);
  std::string flows;
  const std::pair<uint32_t, const char*> names[] = {
      {flow_queue, "queue"}, {flow_rss, "rss"}, {flow_mark, "mark"}, {flow_drop, "drop"}, {flow_count, "count"}};
  for (auto [bit, name] : names)
    if (p.flow_features & bit) flows += (flows.empty() ? "" : ",") + std::string(name);
  out += fmt::format("rte_flow features: {}\n", flows.empty() ? "none" : flows);
  out += fmt::format("Fallbacks: {}\n", p.fallbacks[0] ? p.fallbacks : "none");
  if (p.exception_iface[0])
    out += fmt::format("Exception interface: {} ({})\n", p.exception_iface, p.exception_driver);
  else
    out += "Exception interface: none\n";
  return out;
}

}  // namespace kgw
