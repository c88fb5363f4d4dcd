#include "dataplane/service_runtime.h"

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <cstring>

#include "dataplane/flow_steering.h"
#include "dataplane/log.h"
#include "dataplane/proxy_settings.h"
#include "pipelines/conntrack/conn_table.h"

namespace kgw {

service_runtime::~service_runtime() { release(); }

void service_runtime::release() {
  publisher_.shutdown();
  for (void* p : allocations_) rte_free(p);
  allocations_.clear();
  if (steering_) rte_free(steering_);
  steering_ = nullptr;
  free_counter_area(counters_);
  counters_ = nullptr;
}

namespace {

// RSS as the device does it now (after profile fallbacks), or disabled.
void read_rss(uint16_t pid, rss_port& r) {
  r = rss_port{};
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(pid, &info) != 0 || info.nb_rx_queues < 2 || info.reta_size == 0 ||
      info.reta_size > rss_max_reta)
    return;
  rte_eth_rss_conf conf{};
  conf.rss_key = r.key;
  conf.rss_key_len = rss_max_key;
  if (rte_eth_dev_rss_hash_conf_get(pid, &conf) != 0 || conf.rss_hf == 0) return;
  rte_eth_rss_reta_entry64 reta[rss_max_reta / RTE_ETH_RETA_GROUP_SIZE] = {};
  for (auto& e : reta) e.mask = ~0ull;
  if (rte_eth_dev_rss_reta_query(pid, reta, info.reta_size) != 0) return;
  for (unsigned i = 0; i < info.reta_size; ++i)
    r.reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
  r.reta_size = info.reta_size;
  r.key_len = conf.rss_key_len;
  r.enabled = 1;
}

}  // namespace

namespace {

// Rules for the replies of every worker's full-NAT flows and active opens;
// the port's log line says which steering it got.
std::string steer_by_flow_rules(uint16_t pid, const std::vector<flow_steering_rule>& rules, steering_table& s) {
  std::string why;
  if (install_flow_steering(pid, rules, why)) {
    s.flow_steered[pid] = 1;
    return fmt::format("replies steered to their worker's queue by {} rte_flow rules", rules.size());
  }
  return why;
}

}  // namespace

bool service_runtime::build_steering(unsigned n_workers, const std::vector<uint16_t>& port_ids,
                                     const shared_port_info* ports, const connect_ranges& connect) {
  steering_ = static_cast<steering_table*>(rte_zmalloc("kgw_steering", sizeof(steering_table), 64));
  if (!steering_) {
    error_ = "cannot allocate the steering table";
    return false;
  }
  new (steering_) steering_table{};
  const services_config& sc = cfg_->services;
  steering_->n_workers = static_cast<uint16_t>(n_workers);
  steering_->snat_port_lo = sc.snat_port_lo;
  steering_->snat_span =
      static_cast<uint16_t>((static_cast<uint32_t>(sc.snat_port_hi) - sc.snat_port_lo + 1) / std::max(1u, n_workers));
  std::vector<port_slices> slices(2);
  slices[0] = {sc.snat_port_lo, steering_->snat_span, {6, 17, 132}};
  slices[1] = {connect.lo, connect.span, {6, 0, 0}};
  std::vector<flow_steering_rule> rules = flow_steering_rules(cfg_->snat_addresses, n_workers, slices);
  for (uint16_t pid : port_ids) {
    if (pid >= max_ports) continue;
    read_rss(pid, steering_->port[pid]);
    if (n_workers < 2) continue;
    std::string flow = "the NIC profile lists no rte_flow queue action";
    if (rules.empty()) flow = "no SNAT address to steer";
    else if (ports[pid].flow_features & flow_queue) flow = steer_by_flow_rules(pid, rules, *steering_);
    if (steering_->flow_steered[pid]) {
      log_info("port {}: {}", pid, flow);
      continue;
    }
    log_info("port {}: no rte_flow steering ({}); {}", pid, flow,
             steering_->port[pid].enabled
                 ? fmt::format("SNAT ports aimed at the owner's queue by RSS ({}-entry RETA)", steering_->port[pid].reta_size)
                 : std::string("no usable RSS: full-NAT replies reach their worker over the hand-off ring"));
  }
  return true;
}

bool service_runtime::attach(worker_conf& w, unsigned n_workers, int socket, shared_state& st) {
  const services_config& sc = cfg_->services;
  auto alloc = [&](const char* what, size_t bytes) -> void* {
    void* p = rte_zmalloc_socket(what, bytes, 64, socket);
    if (!p) error_ = fmt::format("cannot allocate {} bytes for {} of worker {}", bytes, what, w.index);
    else allocations_.push_back(p);
    return p;
  };
  auto* ct = static_cast<conn_table*>(alloc("kgw_conn_table", sizeof(conn_table)));
  void* ct_mem = ct ? alloc("kgw_conns", conn_table::memory_size(sc.conntrack_entries)) : nullptr;
  auto* aff = ct_mem ? static_cast<affinity_table*>(alloc("kgw_affinity", sizeof(affinity_table))) : nullptr;
  void* aff_mem = aff ? alloc("kgw_affinity_mem", affinity_table::memory_size(sc.affinity_entries)) : nullptr;
  if (!aff_mem) return false;
  new (ct) conn_table{};
  ct->init(ct_mem, sc.conntrack_entries, sc.timeouts);
  if (w.index == 0) {
    size_t bytes = conn_table::memory_size(sc.conntrack_entries);
    log_info("conntrack: {} connections per worker, {} KiB, {:.1f} bytes per connection ({:.1f} per direction)",
             sc.conntrack_entries, bytes / 1024, double(bytes) / sc.conntrack_entries,
             double(bytes) / sc.conntrack_entries / 2);
  }
  new (aff) affinity_table{};
  aff->init(aff_mem, sc.affinity_entries);
  if (sc.fragment_entries) {
    auto* frags = static_cast<frag_table*>(alloc("kgw_frag_table", sizeof(frag_table)));
    void* frag_mem = frags ? alloc("kgw_frags", frag_table::memory_size(sc.fragment_entries)) : nullptr;
    if (!frag_mem) return false;
    new (frags) frag_table{};
    frags->init(frag_mem, sc.fragment_entries, uint64_t{sc.timeouts.fragment_s} * 1000000000ull);
    w.conntrack.frags = frags;
    // Early fragments wait for a first fragment only where one is followed.
    if (sc.fragment_hold) {
      auto* hold = static_cast<frag_hold*>(alloc("kgw_frag_hold", sizeof(frag_hold)));
      void* hold_mem = hold ? alloc("kgw_frag_held", frag_hold::memory_size(sc.fragment_hold)) : nullptr;
      if (!hold_mem) return false;
      new (hold) frag_hold{};
      hold->init(hold_mem, sc.fragment_hold, uint64_t{sc.fragment_hold_ms} * 1000000ull);
      w.frag_hold.hold = hold;
      w.frag_hold.local = w.local;
    }
  }

  w.conntrack.table = ct;
  lb_lcore& lb = w.lb;
  lb.worker = w.index;
  lb.nexthops = st.nexthops;
  lb.affinity = aff;
  w.services = &st.services;
  // Each worker owns a slice of the SNAT ports, so replies can be told apart.
  (void)n_workers;
  lb.snat_ports.lo = static_cast<uint16_t>(steering_->snat_port_lo + steering_->snat_span * w.index);
  lb.snat_ports.hi = static_cast<uint16_t>(lb.snat_ports.lo + steering_->snat_span - 1);
  lb.steering = steering_;
  w.nat.mss = sc.mss_clamp;
  w.nat.counted = &lb.counters;
  w.nexthops = st.nexthops;

  st.conns[w.index] = ct;
  return true;
}

bool service_runtime::start_publishing(unsigned n_workers, shared_state& st) {
  counters_ = create_counter_area(cfg_->services.counter_slots, n_workers, !*proxy_off_reason(*cfg_), error_);
  if (!counters_) return false;
  st.lb_counters = counters_;
  service_directory* d =
      create_directory(cfg_->services.max_services, n_workers, counters_, cfg_->snat_addresses, error_);
  if (!d) return false;
  if (!publisher_.init(d, n_workers, error_)) {
    free_directory(d);
    return false;
  }
  for (const ip_prefix& p : cfg_->services.cluster_cidrs) {
    cluster_cidr& c = d->cluster_cidrs[d->n_cluster_cidrs++];  // the config allows max_cluster_cidrs
    c.family = p.addr.family;
    c.len = p.len;
    std::memcpy(c.addr, p.addr.b.data(), 16);
  }
  st.services = d;  // no worker runs yet: plain stores
  publisher_.set_ingress_slot(&st.ingress);
  publisher_.set_dns_slot(&st.dns);
  return !initial_ || initial_(publisher_, error_);
}

}  // namespace kgw
