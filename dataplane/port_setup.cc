#include "dataplane/port_setup.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "dataplane/log.h"

namespace kgw {

namespace {

void copy_str(char* dst, size_t n, const std::string& s) {
  std::snprintf(dst, n, "%s", s.c_str());
}

void note_fallback(shared_port_info& info, const std::string& what) {
  log_warn("port {}: {} (falling back)", info.name, what);
  size_t used = std::strlen(info.fallbacks);
  std::snprintf(info.fallbacks + used, sizeof info.fallbacks - used, "%s%s", used ? "; " : "",
                what.c_str());
}

uint64_t offloads_granted(uint64_t want, uint64_t capa, shared_port_info& info, const char* dir,
                          const char* (*name)(uint64_t)) {
  uint64_t missing = want & ~capa;
  for (uint64_t bit = 1; missing && bit; bit <<= 1)
    if (missing & bit) note_fallback(info, fmt::format("{} offload {} not supported", dir, name(bit)));
  return want & capa;
}

rte_eth_conf port_conf(const port_request& req, const rte_eth_dev_info& dev, shared_port_info& info,
                       uint8_t* rss_key_buf) {
  rte_eth_conf conf{};
  const nic_profile& p = *req.profile;
  uint64_t rss = p.rss_hf & dev.flow_type_rss_offloads;
  if (p.rss_hf && rss != p.rss_hf && req.n_queues > 1)
    note_fallback(info, fmt::format("RSS types 0x{:x} of 0x{:x} not supported", p.rss_hf & ~rss, p.rss_hf));
  if (req.n_queues > 1 && rss) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss;
    if (!p.rss_key.empty()) {
      if (p.rss_key.size() == dev.hash_key_size) {
        std::memcpy(rss_key_buf, p.rss_key.data(), p.rss_key.size());
        conf.rx_adv_conf.rss_conf.rss_key = rss_key_buf;
        conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(p.rss_key.size());
      } else {
        note_fallback(info, fmt::format("RSS key of {} bytes, device wants {}: device default key",
                                        p.rss_key.size(), dev.hash_key_size));
      }
    }
    info.rss_hf = rss;
  } else if (req.n_queues > 1) {
    note_fallback(info, "no RSS: every queue but 0 stays idle");
  }
  uint64_t rx_want = p.rx_offloads | (req.want_rx_timestamp ? RTE_ETH_RX_OFFLOAD_TIMESTAMP : 0);
  conf.rxmode.offloads =
      offloads_granted(rx_want, dev.rx_offload_capa, info, "rx", rte_eth_dev_rx_offload_name);
  conf.txmode.offloads =
      offloads_granted(p.tx_offloads, dev.tx_offload_capa, info, "tx", rte_eth_dev_tx_offload_name);
  info.rx_offloads = conf.rxmode.offloads;
  info.tx_offloads = conf.txmode.offloads;
  return conf;
}

}  // namespace

bool setup_port(const port_request& req, rte_mempool* pool, shared_port_info& info,
                std::string& error) {
  uint16_t pid = req.port_id;
  rte_eth_dev_info dev{};
  if (int rc = rte_eth_dev_info_get(pid, &dev); rc != 0) {
    error = fmt::format("port {}: cannot read device info: {}", req.cfg->name, rte_strerror(-rc));
    return false;
  }
  copy_str(info.name, sizeof info.name, req.cfg->name);
  copy_str(info.device, sizeof info.device, req.cfg->device);
  copy_str(info.driver, sizeof info.driver, dev.driver_name ? dev.driver_name : "?");
  copy_str(info.profile, sizeof info.profile, req.profile->name);
  info.port_id = pid;
  info.socket = rte_eth_dev_socket_id(pid);

  unsigned max_q = std::min<unsigned>(dev.max_rx_queues, dev.max_tx_queues);
  if (req.profile->max_queues) max_q = std::min(max_q, req.profile->max_queues);
  if (req.n_queues > max_q) {
    error = fmt::format("port {}: {} workers need {} queues, the device ({}) has {}", req.cfg->name,
                        req.n_queues, req.n_queues, info.driver, max_q);
    return false;
  }
  static uint8_t rss_key[max_ports][64];
  rte_eth_conf conf = port_conf(req, dev, info, rss_key[pid % max_ports]);
  if (int rc = rte_eth_dev_configure(pid, req.n_queues, req.n_queues, &conf); rc != 0) {
    error = fmt::format("port {}: configure failed: {}", req.cfg->name, rte_strerror(-rc));
    return false;
  }
  uint16_t nb_rxd = static_cast<uint16_t>(req.rx_desc_override ? req.rx_desc_override : req.profile->rx_desc);
  uint16_t nb_txd = static_cast<uint16_t>(req.tx_desc_override ? req.tx_desc_override : req.profile->tx_desc);
  rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
  info.rx_desc = nb_rxd;
  info.tx_desc = nb_txd;
  info.nb_rxq = info.nb_txq = req.n_queues;

  if (req.profile->mtu != 1500) {
    if (int rc = rte_eth_dev_set_mtu(pid, static_cast<uint16_t>(req.profile->mtu)); rc != 0)
      note_fallback(info, fmt::format("MTU {}: {}", req.profile->mtu, rte_strerror(-rc)));
  }
  uint16_t mtu = 0;
  rte_eth_dev_get_mtu(pid, &mtu);
  info.mtu = mtu;

  for (uint16_t q = 0; q < req.n_queues; ++q) {
    rte_eth_rxconf rxc = dev.default_rxconf;
    rxc.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, info.socket < 0 ? 0 : info.socket, &rxc, pool); rc != 0) {
      error = fmt::format("port {}: RX queue {} setup failed: {}", req.cfg->name, q, rte_strerror(-rc));
      return false;
    }
    rte_eth_txconf txc = dev.default_txconf;
    txc.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(pid, q, nb_txd, info.socket < 0 ? 0 : info.socket, &txc); rc != 0) {
      error = fmt::format("port {}: TX queue {} setup failed: {}", req.cfg->name, q, rte_strerror(-rc));
      return false;
    }
  }

  // The configured MAC is the gateway's on this port either way: a device that
  // cannot take it as its address still receives it in promiscuous mode.
  bool need_promiscuous = req.profile->promiscuous;
  rte_ether_addr mac{};
  rte_eth_macaddr_get(pid, &mac);
  if (req.cfg->mac) {
    std::memcpy(mac.addr_bytes, req.cfg->mac->b.data(), 6);
    if (int rc = rte_eth_dev_default_mac_addr_set(pid, &mac); rc != 0) {
      note_fallback(info, fmt::format("cannot program MAC {}: {}; answering for it in promiscuous mode",
                                      to_string(*req.cfg->mac), rte_strerror(-rc)));
      need_promiscuous = true;
    }
  }
  std::memcpy(info.mac, mac.addr_bytes, 6);

  if (int rc = rte_eth_dev_start(pid); rc != 0) {
    error = fmt::format("port {}: start failed: {}", req.cfg->name, rte_strerror(-rc));
    return false;
  }
  if (need_promiscuous) {
    if (int rc = rte_eth_promiscuous_enable(pid); rc != 0)
      note_fallback(info, fmt::format("promiscuous mode: {}", rte_strerror(-rc)));
  }
  std::string flow_log;
  info.flow_features = probe_flow_features(pid, *req.profile, flow_log);
  if (!flow_log.empty()) note_fallback(info, flow_log);

  rte_eth_link link{};
  rte_eth_link_get_nowait(pid, &link);
  char link_str[RTE_ETH_LINK_MAX_STR_LEN];
  rte_eth_link_to_str(link_str, sizeof link_str, &link);
  log_info("port {} ({} {} driver {} profile {}): {} queues, {} RX / {} TX descriptors, MTU {}, MAC {}, {}",
           info.name, pid, info.device, info.driver, info.profile, req.n_queues, nb_rxd, nb_txd, mtu,
           to_string(mac_addr{{mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2], mac.addr_bytes[3],
                               mac.addr_bytes[4], mac.addr_bytes[5]}}),
           link_str);
  return true;
}

namespace {

// A representative steering rule: IPv4/UDP to queue 0, with the action under test.
int validate_flow(uint16_t port_id, const rte_flow_action* actions) {
  rte_flow_attr attr{};
  attr.ingress = 1;
  rte_flow_item pattern[] = {
      {RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_IPV4, nullptr, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_UDP, nullptr, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr},
  };
  rte_flow_error err{};
  return rte_flow_validate(port_id, &attr, pattern, actions, &err);
}

}  // namespace

uint32_t probe_flow_features(uint16_t port_id, const nic_profile& profile, std::string& log) {
  uint32_t ok = 0;
  std::vector<std::string> refused;
  for (const auto& f : profile.flow_features) {
    rte_flow_action_queue queue{0};
    uint16_t queues[1] = {0};
    rte_flow_action_rss rss{};
    rss.queue_num = 1;
    rss.queue = queues;
    rte_flow_action_mark mark{1};
    rte_flow_action_count count{};
    rte_flow_action end{RTE_FLOW_ACTION_TYPE_END, nullptr};
    rte_flow_action q{RTE_FLOW_ACTION_TYPE_QUEUE, &queue};
    uint32_t bit = 0;
    rte_flow_action acts[3] = {end, end, end};
    if (f == "queue") { bit = flow_queue; acts[0] = q; }
    else if (f == "rss") { bit = flow_rss; acts[0] = {RTE_FLOW_ACTION_TYPE_RSS, &rss}; }
    else if (f == "mark") { bit = flow_mark; acts[0] = {RTE_FLOW_ACTION_TYPE_MARK, &mark}; acts[1] = q; }
    else if (f == "drop") { bit = flow_drop; acts[0] = {RTE_FLOW_ACTION_TYPE_DROP, nullptr}; }
    else if (f == "count") { bit = flow_count; acts[0] = {RTE_FLOW_ACTION_TYPE_COUNT, &count}; acts[1] = q; }
    else { refused.push_back(f + " (unknown to kgw)"); continue; }
    if (validate_flow(port_id, acts) == 0) ok |= bit;
    else refused.push_back(f);
  }
  if (!refused.empty()) {
    log = "rte_flow refused:";
    for (auto& r : refused) log += " " + r;
    log += "; steering falls back to software";
  }
  return ok;
}

std::string flow_features_to_string(uint32_t f) {
  std::string s;
  const std::pair<uint32_t, const char*> names[] = {
      {flow_queue, "queue"}, {flow_rss, "rss"}, {flow_mark, "mark"}, {flow_drop, "drop"}, {flow_count, "count"}};
  for (auto [bit, name] : names)
    if (f & bit) s += (s.empty() ? "" : ",") + std::string(name);
  return s.empty() ? "none" : s;
}

uint64_t rx_timestamp_hz(uint16_t pid, std::string& error) {
  rte_eth_dev_info dev{};
  if (int rc = rte_eth_dev_info_get(pid, &dev); rc != 0) {
    error = fmt::format("port {}: cannot read device info: {}", pid, rte_strerror(-rc));
    return 0;
  }
  // The pcap PMD (22.11) stamps microseconds (tv_sec * 10^6 + tv_usec): read
  // as nanoseconds, 100 s of capture passed as 100 ms and nothing expired.
  if (std::strcmp(dev.driver_name, "net_pcap") == 0) return 1000000ull;
  // Other devices stamp in their own clock's ticks: measure its rate against the TSC.
  uint64_t c0 = 0, c1 = 0;
  if (int rc = rte_eth_read_clock(pid, &c0); rc != 0) {
    error = fmt::format("port {} ({}): RX timestamps in units it cannot tell (rte_eth_read_clock: {})", pid,
                        dev.driver_name, rte_strerror(-rc));
    return 0;
  }
  uint64_t t0 = rte_get_tsc_cycles();
  rte_delay_ms(50);
  rte_eth_read_clock(pid, &c1);
  uint64_t t1 = rte_get_tsc_cycles();
  if (c1 <= c0 || t1 <= t0) {
    error = fmt::format("port {} ({}): its clock does not advance", pid, dev.driver_name);
    return 0;
  }
  return static_cast<uint64_t>(static_cast<unsigned __int128>(c1 - c0) * rte_get_tsc_hz() / (t1 - t0));
}

}  // namespace kgw
