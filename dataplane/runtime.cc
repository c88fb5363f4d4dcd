#include "dataplane/runtime.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "dataplane/command_bell.h"
#include "dataplane/eal_args.h"
#include "dataplane/log.h"
#include "dataplane/port_setup.h"
#include "dataplane/stats.h"
#include "dataplane/proxy_settings.h"
#include "dataplane/tcp_settings.h"
#include "dataplane/tls_settings.h"
#include "dataplane/worker_tcp.h"

namespace kgw {

namespace {
constexpr unsigned punt_ring_size = 1024;
constexpr unsigned command_ring_size = 64;

int socket_of_port(uint16_t pid) {
  int s = rte_eth_dev_socket_id(pid);
  return s < 0 ? static_cast<int>(rte_socket_id()) : s;
}
}  // namespace

runtime::~runtime() {
  stop_ports();
  // Before the pools: the stacks hold mbufs.
  for (auto* t : tcp_) {
    if (t->tls) {
      tls::tls_stream_release(*t->tls);
      rte_free(t->tls);
    }
    if (t->proxy) {
      proxy::proxy_release(*t->proxy);
      rte_free(t->proxy);
    }
    if (t->dns) {
      rte_free(t->dns->slots);  // the slots and the scratch: one block
      rte_free(t->dns);
    }
    tcp::tcp_stack_destroy(t->stack);
    rte_free(t);
  }
  for (auto* w : workers_) rte_free(w);
  rte_free(pod_network_);
  for (auto* r : punt_rings_) {  // and the DNS forwarder's reply rings
    // Punted packets nobody collected go back to their pool before the pool goes.
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  for (auto* r : handoff_rings_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  if (cmd_ring_) rte_ring_free(cmd_ring_);
  if (reply_ring_) rte_ring_free(reply_ring_);
  if (local_) rte_free(local_);
  tls_.shutdown();
  if (dns_) rte_free(dns_);
  exception_.release();  // before the resolver: its packets could be on their way to an inject ring
  neighbors_.release();
  pod_routes_.release();
  policy_.release();
  services_.release();
  for (uint16_t pid : port_ids_) rte_eth_dev_close(pid);
  for (auto* p : pools_)
    if (p) rte_mempool_free(p);
  if (state_) state_->route_stats = nullptr;
  request_log_.release();
  if (zone_) rte_memzone_free(zone_);
  eal_.reset();
}

bool runtime::start(const runtime_options& o) {
  cfg_ = o.cfg;
  services_.configure(*cfg_, o.initial_services);
  // Before the first publication (the starting manifests' Ingress, served
  // unless both ports are 0); build_tcp says what it built.
  services_.publisher().set_proxy_off_reason(proxy_off_reason(*cfg_));
  return init_eal(o) && create_shared(o) && bring_up_ports(o) && build_workers(o) && build_tls(o) && build_tcp(o);
}

bool runtime::build_tls(const runtime_options& o) {
  if (!tls_.start(tls_settings_of(*cfg_), services_.publisher().qsbr(), &state_->tls, &state_->tls_fallback, error_))
    return false;
  return !o.initial_tls || o.initial_tls(tls_, error_);
}

bool runtime::init_eal(const runtime_options& o) {
  std::vector<config_error> errs;
  profiles_ = load_nic_profiles(o.profiles_dir, errs);
  if (!errs.empty()) {
    error_ = "NIC profiles: " + errs.front().to_string();
    return false;
  }
  eal_ = std::make_unique<eal_session>(o.eal_args, eal_session::role::primary);
  if (!eal_->ok()) {
    error_ = eal_->error();
    return false;
  }
  if (rte_lcore_count() < cfg_->workers + 1 && o.cfg->workers > 0 && rte_lcore_count() != 1) {
    error_ = fmt::format("{} workers need {} lcores, EAL has {}", cfg_->workers, cfg_->workers + 1, rte_lcore_count());
    return false;
  }
  return true;
}

bool runtime::create_shared(const runtime_options&) {
  zone_ = rte_memzone_reserve_aligned(shared_state_zone, sizeof(shared_state), SOCKET_ID_ANY, 0, 64);
  if (!zone_) {
    error_ = fmt::format("cannot reserve shared state ({} bytes): {}", sizeof(shared_state), rte_strerror(rte_errno));
    return false;
  }
  state_ = static_cast<shared_state*>(zone_->addr);
  std::memset(static_cast<void*>(state_), 0, sizeof(shared_state));
  state_->magic = shared_state_magic;
  state_->version = shared_state_version;
  state_->primary_pid = getpid();
  state_->tsc_hz = rte_get_tsc_hz();
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  state_->start_tsc = rte_rdtsc();
  state_->start_monotonic_ns = int64_t(mono.tv_sec) * 1000000000 + mono.tv_nsec;
  std::snprintf(state_->node_name, sizeof state_->node_name, "%s", cfg_->node_name.c_str());
  std::snprintf(state_->config_file, sizeof state_->config_file, "%s", cfg_->file.c_str());
  cmd_ring_ = rte_ring_create_elem(command_ring_name, sizeof(command_msg), command_ring_size, SOCKET_ID_ANY,
                                   RING_F_SC_DEQ);
  reply_ring_ = rte_ring_create_elem(reply_ring_name, sizeof(command_reply), command_ring_size, SOCKET_ID_ANY,
                                     RING_F_SP_ENQ);
  if (!cmd_ring_ || !reply_ring_) {
    error_ = fmt::format("cannot create command rings: {}", rte_strerror(rte_errno));
    return false;
  }
  return true;
}

bool runtime::bring_up_ports(const runtime_options& o) {
  if (cfg_->ports.size() > max_ports) {
    error_ = fmt::format("{} ports configured, at most {}", cfg_->ports.size(), max_ports);
    return false;
  }
  pools_.assign(RTE_MAX_NUMA_NODES, nullptr);
  for (size_t i = 0; i < cfg_->ports.size(); ++i) {
    const port_config& pc = cfg_->ports[i];
    uint16_t pid;
    std::string dev_name = port_device_name(pc.device);
    if (rte_eth_dev_get_port_by_name(dev_name.c_str(), &pid) != 0) {
      error_ = fmt::format("port {}: no ethdev named {} (device \"{}\" not probed: check the PCI address / vdev args and driver binding)",
                           pc.name, dev_name, pc.device);
      return false;
    }
    if (pid >= max_ports) {
      error_ = fmt::format("port {}: ethdev port id {} beyond kgw's {} ports", pc.name, pid, max_ports);
      return false;
    }
    rte_eth_dev_info dev{};
    rte_eth_dev_info_get(pid, &dev);
    const nic_profile* prof = pc.profile == "auto" ? profile_for_driver(profiles_, dev.driver_name)
                                                   : profile_by_name(profiles_, pc.profile);
    if (!prof) {
      error_ = pc.profile == "auto"
                   ? fmt::format("port {}: no NIC profile in {} lists driver {}; name one with `profile:`", pc.name,
                                 o.profiles_dir, dev.driver_name)
                   : fmt::format("port {}: NIC profile {} not found in {}", pc.name, pc.profile, o.profiles_dir);
      return false;
    }
    int sock = socket_of_port(pid);
    if (!pools_[sock]) {
      auto name = fmt::format("kgw_mbuf_s{}", sock);
      pools_[sock] = rte_pktmbuf_pool_create(name.c_str(), cfg_->dataplane.mbufs, cfg_->dataplane.mbuf_cache, 0,
                                             uint16_t(cfg_->dataplane.mbuf_data_room + RTE_PKTMBUF_HEADROOM), sock);
      if (!pools_[sock]) {
        error_ = fmt::format("cannot create mempool of {} mbufs on socket {}: {}", cfg_->dataplane.mbufs, sock,
                             rte_strerror(rte_errno));
        return false;
      }
    }
    port_request req{&pc, prof, pid, static_cast<uint16_t>(std::max(1u, cfg_->workers)),
                     cfg_->dataplane.rx_desc, cfg_->dataplane.tx_desc, o.rx_timestamps};
    if (!setup_port(req, pools_[sock], state_->ports[pid], error_)) return false;
    port_ids_.push_back(pid);
    state_->n_ports = std::max<uint32_t>(state_->n_ports, pid + 1u);
  }
  ports_started_ = true;
  snapshot_port_stats();
  return true;
}

namespace {

// Index of `a` in the table (added when new), or -1 when its family is full
// (the config forbids it).
int add_local_address(local_table& t, const ip_addr& a) {
  if (a.is_v4()) {
    for (uint32_t i = 0; i < t.n_v4; ++i)
      if (std::memcmp(t.v4[i], a.b.data(), 4) == 0) return static_cast<int>(i);
    if (t.n_v4 == max_local_addrs) return -1;
    std::memcpy(t.v4[t.n_v4], a.b.data(), 4);
    return static_cast<int>(t.n_v4++);
  }
  for (uint32_t i = 0; i < t.n_v6; ++i)
    if (std::memcmp(t.v6[i], a.b.data(), 16) == 0) return static_cast<int>(i);
  if (t.n_v6 == max_local_addrs) return -1;
  std::memcpy(t.v6[t.n_v6], a.b.data(), 16);
  return static_cast<int>(t.n_v6++);
}

}  // namespace

void runtime::build_local_table() {
  local_ = static_cast<local_table*>(rte_zmalloc("kgw_local", sizeof(local_table), 64));
  new (local_) local_table{};
  for (const auto& a : cfg_->node_addresses) {
    int i = add_local_address(*local_, a);
    if (i >= 0) (a.is_v4() ? local_->v4_node : local_->v6_node) |= 1u << i;
  }
  for (const auto& a : cfg_->ingress.addresses) {
    int i = add_local_address(*local_, a);
    if (i >= 0) (a.is_v4() ? local_->v4_ingress : local_->v6_ingress) |= 1u << i;
  }
  // The DNS addresses are answered like node addresses (ARP, ND, echo);
  // UDP/53 to them is the DNS stage's, and TCP/53 too (handed to the stack,
  // build_tcp); other ports are refused.
  for (const auto& a : cfg_->dns.addresses) add_local_address(*local_, a);
  for (uint16_t pid : port_ids_) std::memcpy(local_->port_mac[pid], state_->ports[pid].mac, 6);
  local_->punt_enabled = true;
  if (!cfg_->dns.addresses.empty()) {
    dns_ = static_cast<dns_stage_table*>(rte_zmalloc("kgw_dns_addrs", sizeof(dns_stage_table), 64));
    new (dns_) dns_stage_table{};
    for (const ip_addr& a : cfg_->dns.addresses) {
      if (a.is_v4() && dns_->n_v4 < max_dns_addrs) std::memcpy(dns_->v4[dns_->n_v4++], a.b.data(), 4);
      if (a.is_v6() && dns_->n_v6 < max_dns_addrs) std::memcpy(dns_->v6[dns_->n_v6++], a.b.data(), 16);
    }
    std::memcpy(dns_->port_mac, local_->port_mac, sizeof dns_->port_mac);
    dns_->forward = !cfg_->dns.upstreams.empty();
  }
  // Replies to the stacks' active opens: the first SNAT address of each
  // family (the one the L4 SNAT uses too), on tcp.connect_port_lo/hi.
  for (const ip_addr& a : cfg_->snat_addresses) {
    if (a.is_v4() && !local_->has_snat_v4) {
      std::memcpy(local_->snat_v4, a.b.data(), 4);
      local_->has_snat_v4 = 1;
    } else if (a.is_v6() && !local_->has_snat_v6) {
      std::memcpy(local_->snat_v6, a.b.data(), 16);
      local_->has_snat_v6 = 1;
    }
  }
  unsigned n = std::max(1u, cfg_->workers);
  local_->connect.lo = cfg_->tcp.connect_port_lo;
  local_->connect.span = static_cast<uint16_t>((cfg_->tcp.connect_port_hi - cfg_->tcp.connect_port_lo + 1u) / n);
  local_->connect.n_workers = static_cast<uint16_t>(n);
}

bool runtime::build_workers(const runtime_options& o) {
  build_local_table();
  if (!services_.build_steering(std::max(1u, cfg_->workers), port_ids_, state_->ports, local_->connect)) {
    error_ = services_.error();
    return false;
  }
  rte_mempool* nb_pool = nullptr;
  for (rte_mempool* p : pools_) nb_pool = nb_pool ? nb_pool : p;
  // The capture's clock starts at 0 for the workers of a replay.
  uint64_t start_ns = o.rx_timestamps ? 0 : tick_clock::of_hz(rte_get_tsc_hz()).to_ns(rte_get_tsc_cycles());
  if (!neighbors_.start(*cfg_, port_ids_, *state_, nb_pool, std::max(1u, cfg_->workers), start_ns, error_))
    return false;
  int ts_offset = -1;
  tick_clock rx_clock[max_ports] = {};
  if (o.rx_timestamps) {
    ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr);
    for (uint16_t pid : port_ids_) {
      uint64_t hz = rx_timestamp_hz(pid, error_);
      if (hz == 0) return false;
      rx_clock[pid] = tick_clock::of_hz(hz);
    }
  }
  const tick_clock tsc_clock = tick_clock::of_hz(rte_get_tsc_hz());
  unsigned n = std::max(1u, cfg_->workers);
  state_->n_workers = n;
  unsigned lcore = rte_get_main_lcore();
  for (unsigned i = 0; i < n; ++i) {
    // With one lcore (replay) the main lcore is the worker.
    if (rte_lcore_count() > 1) lcore = rte_get_next_lcore(lcore, 1, 0);
    auto* w = static_cast<worker_conf*>(rte_zmalloc_socket("kgw_worker", sizeof(worker_conf), 64,
                                                           static_cast<int>(rte_lcore_to_socket_id(lcore))));
    if (!w) {
      error_ = "cannot allocate worker config";
      return false;
    }
    new (w) worker_conf{};
    w->index = i;
    w->txq = static_cast<uint16_t>(i);
    w->n_ports = static_cast<uint16_t>(state_->n_ports);
    w->burst = static_cast<uint16_t>(cfg_->dataplane.burst);
    w->drain.bound_tsc = tx_drain_bound_tsc(cfg_->dataplane.tx_drain_us, rte_get_tsc_hz());
    w->counters = &state_->counters[i];
    w->snapshot = &state_->conn_snapshots[i];
    w->l7_snapshot = &state_->l7_snapshots[i];
    w->tcp_probe = &state_->tcp_probes[i];
    w->local_state.worker = i;
    w->local = local_;
    w->dns = dns_;
    w->dns_names = &state_->dns;
    w->refusals = refusal_limiter{cfg_->services.refusals_per_second};
    w->local_state.refusals = &w->refusals;
    w->lb.refusals = &w->refusals;
    w->stop = &state_->stop;
    w->timestamp_offset = ts_offset;
    std::copy(std::begin(rx_clock), std::end(rx_clock), std::begin(w->rx_clock));
    w->tsc_clock = tsc_clock;
    for (uint16_t pid : port_ids_) w->rxq[w->n_rxq++] = {pid, static_cast<uint16_t>(i)};
    auto ring_name = fmt::format("{}{}", punt_ring_prefix, i);
    w->punt = rte_ring_create(ring_name.c_str(), punt_ring_size, static_cast<int>(rte_lcore_to_socket_id(lcore)),
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!w->punt) {
      error_ = fmt::format("cannot create punt ring {}: {}", ring_name, rte_strerror(rte_errno));
      return false;
    }
    punt_rings_.push_back(w->punt);
    if (dns_ && dns_->forward) {  // control's forwarder is the only producer
      auto reply_name = fmt::format("{}{}", dns_reply_ring_prefix, i);
      w->dns_reply = rte_ring_create(reply_name.c_str(), punt_ring_size,
                                     static_cast<int>(rte_lcore_to_socket_id(lcore)), RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (!w->dns_reply) {
        error_ = fmt::format("cannot create ring {}: {}", reply_name, rte_strerror(rte_errno));
        return false;
      }
      punt_rings_.push_back(w->dns_reply);
    }
    shared_lcore_info& li = state_->lcores[i];
    li.lcore_id = lcore;
    li.socket = static_cast<int32_t>(rte_lcore_to_socket_id(lcore));
    rte_cpuset_t cs = rte_lcore_cpuset(lcore);
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &cs)) {
        li.cpu = c;
        break;
      }
    li.n_rxq = w->n_rxq;
    std::memcpy(li.rxq, w->rxq, sizeof li.rxq);
    li.txq = w->txq;
    workers_.push_back(w);
    if (!services_.attach(*w, n, li.socket, *state_)) {
      error_ = services_.error();
      return false;
    }
  }
  if (!services_.start_publishing(n, *state_)) {
    error_ = services_.error();
    return false;
  }
  for (unsigned i = 0; i < n; ++i) {
    auto name = fmt::format("kgw_handoff_{}", i);
    rte_ring* r = rte_ring_create(name.c_str(), handoff_ring_size, state_->lcores[i].socket, RING_F_SC_DEQ);
    if (!r) {
      error_ = fmt::format("cannot create hand-off ring {}: {}", name, rte_strerror(rte_errno));
      return false;
    }
    handoff_rings_.push_back(r);
    workers_[i]->handoff_in = r;
  }
  if (o.exception && cfg_->exception.enabled) {
    if (!exception_.start(*cfg_, port_ids_, *state_, nb_pool, n, start_ns, error_)) return false;
    local_->exception = true;
  }
  if (!build_pod_network()) return false;
  if (o.initial_pod_routes && !o.initial_pod_routes(pod_routes_, error_)) return false;
  policy_.init(services_.publisher().qsbr(), &state_->policy_rules, n);
  for (worker_conf* w : workers_) w->policy_slot = w->lb.policy_slot = policy_.slot();
  if (o.initial_policy && !o.initial_policy(policy_, error_)) return false;
  neighbors_.set_rcu(services_.publisher().qsbr());
  for (worker_conf* w : workers_) {
    neighbors_.attach(*w);
    exception_.attach(*w);
    for (unsigned i = 0; i < n; ++i) w->handoff_to[i] = handoff_rings_[i];
    w->rcu = services_.publisher().qsbr();
    rte_rcu_qsbr_thread_register(w->rcu, w->index);
    rte_rcu_qsbr_thread_online(w->rcu, w->index);
  }
  return true;
}

// The pod network's settings for the workers, and the slot the pod routes
// control publishes are swapped into.
bool runtime::build_pod_network() {
  const pod_network_config& pc = cfg_->pod_network;
  pod_network_ = static_cast<pod_network_conf*>(rte_zmalloc("kgw_pod_network", sizeof(pod_network_conf), 64));
  if (!pod_network_) {
    error_ = "cannot allocate the pod network settings";
    return false;
  }
  pod_network_conf& p = *new (pod_network_) pod_network_conf{};
  p.overlay = pc.vxlan ? pod_overlay::vxlan : pod_overlay::none;
  p.vni = pc.vni;
  p.vxlan_port = pc.vxlan_port;
  std::memcpy(p.port_mac, local_->port_mac, sizeof p.port_mac);
  for (uint16_t pid : port_ids_) p.mtu[pid] = state_->ports[pid].mtu ? state_->ports[pid].mtu : 1500;
  std::memcpy(p.vtep_mac, pc.vtep_mac ? pc.vtep_mac->b.data() : local_->port_mac[port_ids_.empty() ? 0 : port_ids_[0]], 6);
  if (pc.vtep_address) std::memcpy(p.vtep_addr4, pc.vtep_address->b.data(), 4);
  std::memcpy(p.vtep_mac6, pc.vtep_mac6 ? pc.vtep_mac6->b.data() : p.vtep_mac, 6);
  if (pc.vtep_address6) {
    std::memcpy(p.vtep_addr6, pc.vtep_address6->b.data(), 16);
    p.has_vtep6 = 1;
  }
  for (const ip_addr& a : cfg_->node_addresses) {
    if (a.is_v4() && !p.has_addr4) {
      std::memcpy(p.icmp_src4, a.b.data(), 4);
      p.has_addr4 = 1;
    }
    if (a.is_v6() && !p.has_addr6) {
      std::memcpy(p.icmp_src6, a.b.data(), 16);
      p.has_addr6 = 1;
    }
  }
  if (pc.vtep_address) std::memcpy(p.icmp_src4, p.vtep_addr4, 4);
  pod_routes_.init(services_.publisher().qsbr(), &state_->pod_routes);
  for (worker_conf* w : workers_) {
    w->pods.conf = pod_network_;
    w->pods.refusals = &w->refusals;
    w->pod_routes_slot = pod_routes_.slot();
  }
  return true;
}

bool runtime::build_tcp(const runtime_options& o) {
  uint64_t seed = 0;
  if (o.tcp_seed) {
    seed = *o.tcp_seed;
  } else if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    error_ = fmt::format("cannot read a random seed for the TCP stacks: {}", std::strerror(errno));
    return false;
  }
  tcp::tcp_config tc = tcp_config_of(*cfg_);
  // The smallest MTU of the ports: a segment may leave through any of them.
  uint16_t mtu = 0;
  bool multiseg = true;
  for (uint16_t pid : port_ids_) {
    uint16_t m = state_->ports[pid].mtu;
    if (m && (!mtu || m < mtu)) mtu = m;
    bool chains = state_->ports[pid].tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    multiseg = multiseg && chains;
    for (auto* w : workers_) w->tx_linearize[pid] = !chains;
  }
  // SCTP's CRC32c after NAT: left to the NICs when every port computes it on
  // TX (the profile's sctp-cksum, granted); else computed in software.
  bool sctp_tx = !port_ids_.empty();
  for (uint16_t pid : port_ids_) sctp_tx = sctp_tx && (state_->ports[pid].tx_offloads & RTE_ETH_TX_OFFLOAD_SCTP_CKSUM);
  for (auto* w : workers_) w->nat.sctp_crc_offload = sctp_tx;
  if (sctp_tx) log_info("SCTP: CRC32c after NAT computed by the NICs (TX offload sctp-cksum on every port)");
  // The stacks' TCP checksums likewise, when every port computes them on TX
  // (the profile's tcp-cksum, granted): a segment may leave through any port.
  bool tcp_tx = !port_ids_.empty();
  for (uint16_t pid : port_ids_) tcp_tx = tcp_tx && (state_->ports[pid].tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
  tc.tx_checksum_offload = tcp_tx;
  if (tcp_tx) log_info("TCP stacks: checksums of sent segments computed by the NICs (TX offload tcp-cksum on every port)");
  if (mtu) tc.mtu = std::max<uint16_t>(mtu, 596);
  // A segment copied into one buffer must fit it.
  if (!multiseg) tc.mtu = static_cast<uint16_t>(std::min<unsigned>(tc.mtu, cfg_->dataplane.mbuf_data_room - 14));
  // TCP needs a 576-byte datagram (RFC 9293 3.7.1: the MSS it may assume).
  // Buffers too small for one, on a port that sends no chains (a replay or
  // benchmark setting of mbuf_data_room): no stacks, unless something needs them.
  constexpr unsigned min_tcp_mtu = 576 + 20;
  const bool tcp_possible = tc.mtu >= min_tcp_mtu;

  // Every Ingress address listens on the echo port: one listener per family
  // on the unspecified address, since the local stage hands the stack only
  // segments for Ingress addresses.
  bool v4 = false, v6 = false;
  for (const ip_addr& a : cfg_->ingress.addresses) (a.is_v4() ? v4 : v6) = true;
  uint16_t echo = cfg_->ingress.echo_port;
  // The proxy serves plain HTTP on http_port and HTTPS on https_port (the
  // TLS layer's connections, tcp_app::https); 0 turns either off. With
  // Ingresses that may appear at run time (kgw control) it runs whenever the
  // configuration allows, Ingress or not, so that the first one published
  // is served from the next connection (until then: 404, as ingress-nginx's
  // default backend); otherwise (replay) only for the starting manifests'.
  // Starting manifests with an Ingress need it: start fails without.
  std::string proxy_off = proxy_off_reason(*cfg_);
  if (!o.http_proxy && !o.ingress_at_run_time && proxy_off.empty()) proxy_off = "no Ingress in the manifests";
  if (proxy_off.empty() && !tcp_possible && !o.http_proxy)
    proxy_off = fmt::format("dataplane.mbuf_data_room {} holds no TCP segment", cfg_->dataplane.mbuf_data_room);
  if (o.http_proxy && proxy_off == proxy_off_reason_no_source) {
    error_ = "the HTTP proxy (an Ingress in the manifests) needs an snat.addresses entry of the Ingress addresses' family";
    return false;
  }
  services_.publisher().set_proxy_off_reason(proxy_off);
  const bool proxy_on = proxy_off.empty();
  uint16_t http = proxy_on ? cfg_->ingress.http_port : 0;
  uint16_t https = proxy_on ? cfg_->ingress.https_port : 0;
  uint16_t tls_echo = cfg_->ingress.tls_echo_port;
  if (!proxy_on && o.ingress_at_run_time)
    log_info("http: no reverse proxy ({}): Ingress routes published are not served", proxy_off);
  if (!tcp_possible) {
    if (echo || proxy_on || tls_echo) {
      error_ = fmt::format("TCP (ingress.{}) needs segments of 576 bytes: dataplane.mbuf_data_room {} is too small "
                           "for a port that cannot send chained buffers",
                           echo ? "echo_port" : http ? "http_port" : https ? "https_port" : "tls_echo_port",
                           cfg_->dataplane.mbuf_data_room);
      return false;
    }
    log_warn("tcp: no TCP stacks (dataplane.mbuf_data_room {} holds no 576-byte segment on a port without chained "
             "buffers): nothing listens, no active opens", cfg_->dataplane.mbuf_data_room);
    return true;
  }
  if (echo) local_->tcp_ports[local_->n_tcp_ports++] = echo;
  if (tls_echo) local_->tcp_ports[local_->n_tcp_ports++] = tls_echo;
  // DNS over TCP: port 53 of the DNS addresses, a listener per family on
  // the unspecified address as for the Ingress ports; the DNS stage hands
  // the stack only port 53 of DNS addresses (before the Service stages, as
  // for UDP: the DNS address is usually the cluster DNS Service's IP), the
  // local stage only the Ingress ports of Ingress addresses, so neither
  // service sees the other's segments, unless one port is both.
  constexpr uint16_t dns_port = 53;
  bool dns4 = false, dns6 = false;
  for (const ip_addr& a : cfg_->dns.addresses) (a.is_v4() ? dns4 : dns6) = true;
  const bool dns_tcp = dns4 || dns6;
  if (dns_tcp && (echo == dns_port || tls_echo == dns_port || http == dns_port || https == dns_port)) {
    error_ = "DNS over TCP takes port 53 of the DNS addresses: an ingress port of 53 would share its listener";
    return false;
  }
  if (dns_tcp && dns_) dns_->tcp_port = dns_port;
  // Backend connections are active opens from the first SNAT address of the
  // endpoint's family (pipelines/l7/connect): their own port range, replies
  // delivered to the worker that opened them. Endpoints of the client's
  // family are preferred, the other family's serve when a Service has none.
  const proxy_sources src = proxy_sources_of(*cfg_);
  const ip_addr source_v4 = src.v4, source_v6 = src.v6;
  if (proxy_on) {
    if (http && http != echo) local_->tcp_ports[local_->n_tcp_ports++] = http;
    if (https && https != echo && https != tls_echo) local_->tcp_ports[local_->n_tcp_ports++] = https;
    std::vector<int> sockets;
    for (auto* w : workers_) sockets.push_back(state_->lcores[w->index].socket);
    if (!request_log_.create(sockets, cfg_->ingress.max_route_stats, !cfg_->ingress.access_log.empty(), error_))
      return false;
    state_->route_stats = request_log_.stats();
    state_->route_stat_slots = request_log_.slots();
    if (!cfg_->ingress.access_log.empty())
      log_info("http: access log records handed to the control process for {} ({} per worker)",
               cfg_->ingress.access_log, proxy::access_records_per_worker - 1);
  }

  for (auto* w : workers_) {
    unsigned lcore = state_->lcores[w->index].lcore_id;
    int socket = static_cast<int>(rte_lcore_to_socket_id(lcore));
    rte_mempool* pool = socket >= 0 && socket < RTE_MAX_NUMA_NODES ? pools_[socket] : nullptr;
    for (size_t i = 0; !pool && i < pools_.size(); ++i) pool = pools_[i];
    tc.seed = seed + w->index;  // each worker its own secrets
    uint64_t now = w->timestamp_offset >= 0 ? 0 : w->tsc_clock.to_ns(rte_get_tsc_cycles());
    auto* wt = static_cast<worker_tcp*>(rte_zmalloc_socket("kgw_worker_tcp", sizeof(worker_tcp), 64, socket));
    if (!wt) {
      error_ = "cannot allocate the TCP state of a worker";
      return false;
    }
    new (wt) worker_tcp{};
    tcp_.push_back(wt);
    wt->stack = tcp::tcp_stack_create(tc, pool, socket, now);
    if (!wt->stack) {
      error_ = fmt::format("cannot create the TCP stack of worker {} ({} connections): out of hugepage memory",
                           w->index, tc.max_connections);
      return false;
    }
    tcp::tcp_stack* s = wt->stack;
    wt->pool = pool;
    connect_lcore& cl = wt->connect;
    cl.ranges = local_->connect;
    cl.worker = w->index;
    for (const ip_addr& a : cfg_->snat_addresses) {
      ip_addr& slot = a.is_v4() ? cl.snat_v4 : cl.snat_v6;
      if (slot.family == 0) slot = a;
    }
    cl.nexthops = state_->nexthops;
    cl.steering = services_.steering();
    cl.pod_routes_slot = w->pods.conf ? w->pod_routes_slot : nullptr;
    w->tcp = wt;
    w->now_ns = now;
    // One listener per address family on the unspecified address.
    auto listen_on = [&](uint16_t port, tcp_app app, bool want4, bool want6) {
      for (int fam : {4, 6}) {
        if ((fam == 4 && !want4) || (fam == 6 && !want6)) continue;
        ip_addr any;
        any.family = static_cast<uint8_t>(fam);
        int l = tcp::tcp_listen(*s, any, port);
        if (l < 0 || l >= static_cast<int>(std::size(wt->listener_app))) {
          error_ = fmt::format("worker {}: cannot listen on TCP port {}", w->index, port);
          return false;
        }
        wt->listener_app[l] = app;
      }
      return true;
    };
    auto listen = [&](uint16_t port, tcp_app app) { return listen_on(port, app, v4, v6); };
    if (echo && !listen(echo, tcp_app::echo)) return false;
    if (dns_tcp) {
      if (!listen_on(dns_port, tcp_app::dns, dns4, dns6)) return false;
      uint32_t max_dns = cfg_->dns.tcp_max_connections;
      auto* dw = static_cast<dns::tcp_worker*>(rte_zmalloc_socket("kgw_dns_tcp", sizeof(dns::tcp_worker), 64, socket));
      void* mem = rte_zmalloc_socket("kgw_dns_tcp_slots", dns::tcp_worker_memory(max_dns), 64, socket);
      if (!dw || !mem) {
        rte_free(dw);
        rte_free(mem);
        error_ = fmt::format("cannot allocate DNS over TCP for worker {} ({} connections): out of hugepage memory",
                             w->index, max_dns);
        return false;
      }
      new (dw) dns::tcp_worker{};
      dns::tcp_worker_init(*dw, mem, s, pool, static_cast<uint32_t>(tcp_app::dns), max_dns,
                           uint64_t{cfg_->dns.tcp_idle_timeout} * 1000000000ull, tc.send_buffer, tc.recv_buffer);
      // Names outside the zones to control's forwarder, as UDP's: a connection
      // waits for an answer as long as every upstream and a TCP retry after
      // TC may take, and a second.
      if (dns_ && dns_->forward && w->punt && w->dns_reply)
        dns::tcp_worker_forward(
            *dw, w->punt, (uint64_t{cfg_->dns.upstream_timeout_ms} * (cfg_->dns.upstreams.size() + 1) + 1000) * 1000000ull);
      wt->dns = dw;
    }
    if (tls_echo && !listen(tls_echo, tcp_app::tls_echo)) return false;
    if (tls_echo || https) {
      // One TLS layer per worker, shared by every TLS service on it.
      auto* ts = static_cast<tls::tls_stream_worker*>(
          rte_zmalloc_socket("kgw_tls_stream", sizeof(tls::tls_stream_worker), 64, socket));
      if (ts) new (ts) tls::tls_stream_worker{};
      uint64_t budget = rte_get_tsc_hz() / 1000000 * cfg_->ingress.tls_handshake_budget;
      if (!ts || !tls::tls_stream_init(*ts, s, pool, tc.max_connections, socket, tls_.current_slot(), budget,
                                       &w->counters->tls)) {
        rte_free(ts);
        error_ = fmt::format("cannot allocate the TLS state of worker {} ({} connections): out of hugepage memory",
                             w->index, tc.max_connections);
        return false;
      }
      ts->buffered_max = cfg_->ingress.tls_buffered_connections;
      wt->tls = ts;
    }
    if (proxy_on) {
      if (http && !listen(http, tcp_app::http)) return false;
      if (https && !listen(https, tcp_app::https)) return false;
      auto* pw = static_cast<proxy::proxy_worker*>(
          rte_zmalloc_socket("kgw_proxy", sizeof(proxy::proxy_worker), 64, socket));
      if (!pw) {
        error_ = "cannot allocate the HTTP proxy of a worker";
        return false;
      }
      new (pw) proxy::proxy_worker{};
      wt->proxy = pw;
      if (!proxy::proxy_init(*pw, s, pool, tc.max_connections, socket, proxy_settings_of(cfg_->ingress),
                             proxy_max_endpoints, now, tc.seed)) {
        error_ = fmt::format("cannot allocate the HTTP proxy's {} connections of worker {}: out of hugepage memory",
                             tc.max_connections, w->index);
        return false;
      }
      pw->source_v4 = source_v4;
      pw->source_v6 = source_v6;
      pw->connect = &wt->connect;
      pw->tcp_counters = &w->counters->tcp;
      pw->listen_port = http;
      pw->https_port = https;
      pw->tls = https ? wt->tls : nullptr;
      pw->counters = &w->counters->http;
      pw->route_stats = request_log_.row(w->index);
      pw->route_stat_slots = request_log_.slots();
      pw->access = request_log_.queue(w->index, &state_->access_log_reader);
      if (const lb_counter_area* a = state_->lb_counters; a && a->http[w->index]) {
        pw->endpoint_http = a->http[w->index];
        pw->endpoint_http_slots = a->n_slots;
      }
      wt->ingress = &state_->ingress;
    }
  }
  if (!multiseg)
    log_info("tcp: a port cannot send mbuf chains: segments are copied into one buffer (MSS up to {})", tc.mtu - 40);
  // Worst case, every connection's buffers full of one-MSS segments: far
  // beyond the pool by default, as a kernel's socket buffers are beyond its
  // memory. Said at start so that a pool sized for forwarding is not a surprise.
  uint64_t mss = tc.mtu - 40u;
  uint64_t worst = uint64_t(tc.max_connections) * ((tc.recv_buffer + tc.send_buffer) / mss + tc.max_ooo_segments);
  log_info("tcp: {} connections per worker, {} KiB receive and {} KiB send buffers; full buffers of every "
           "connection would hold {} mbufs per worker (pool: {})",
           tc.max_connections, tc.recv_buffer / 1024, tc.send_buffer / 1024, worst, cfg_->dataplane.mbufs);
  if (echo) log_info("tcp: echo (RFC 862) on port {} of the Ingress addresses", echo);
  if (dns_tcp)
    log_info("dns: TCP on port 53 of the DNS addresses, at most {} connections per worker, closed after {} s without a "
             "query", cfg_->dns.tcp_max_connections, cfg_->dns.tcp_idle_timeout);
  if (tls_echo)
    log_info("tls: echo (RFC 862) over TLS on port {} of the Ingress addresses; at most {} us of handshakes per poll "
             "loop", tls_echo, cfg_->ingress.tls_handshake_budget);
  if (!cfg_->snat_addresses.empty()) {
    const connect_ranges& r = local_->connect;
    log_info("tcp: active opens from the SNAT addresses, source ports {}..{} ({} per worker){}", r.lo,
             r.lo + r.span * r.n_workers - 1, r.span,
             r.n_workers > 1 ? "; each aimed by RSS at its worker's queue where the port reports its RSS" : "");
  }
  if (proxy_on)
    log_info("http: reverse proxy on port {} (http) and {} (https; 0: off) of the Ingress addresses, backends reached "
             "from {} ({} KiB per worker; {} bytes per client connection: proxy {} + TCP {}){}",
             http, https,
             source_v4.family && source_v6.family ? to_string(source_v4) + " and " + to_string(source_v6)
                                                  : to_string(source_v4.family ? source_v4 : source_v6),
             proxy::proxy_memory_size(tc.max_connections, proxy_max_endpoints) / 1024,
             proxy::proxy_connection_bytes() + tcp::tcp_connection_bytes(tc), proxy::proxy_connection_bytes(),
             tcp::tcp_connection_bytes(tc), o.http_proxy ? "" : "; no Ingress yet: 404 until one is published");
  return true;
}

void runtime::snapshot_port_stats() {
  for (uint16_t pid : port_ids_) {
    rte_eth_stats st{};
    rte_eth_stats_get(pid, &st);
    rte_eth_link link{};
    rte_eth_link_get_nowait(pid, &link);
    shared_port_stats& s = state_->port_stats[pid];
    s.ipackets = st.ipackets;
    s.opackets = st.opackets;
    s.ibytes = st.ibytes;
    s.obytes = st.obytes;
    s.imissed = st.imissed;
    s.ierrors = st.ierrors;
    s.oerrors = st.oerrors;
    s.rx_nombuf = st.rx_nombuf;
    s.link_up = link.link_status;
    s.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
    s.link_full_duplex = link.link_duplex;
    s.tsc = rte_rdtsc();
  }
  state_->stats_generation = state_->stats_generation + 1;
}

void runtime::clear_stats(uint64_t port) {
  for (uint16_t pid : port_ids_) {
    if (port != all_ports && port != pid) continue;
    rte_eth_stats_reset(pid);
    for (unsigned w = 0; w < workers_.size(); ++w)
      state_->counters_base[w].port[pid] = state_->counters[w].port[pid];
  }
  if (port == all_ports) {
    for (unsigned w = 0; w < workers_.size(); ++w) take_clear_baseline(*state_, w);
    state_->main_counters_base = state_->main_counters;
    take_dns_forward_baseline(*state_);
  }
  snapshot_port_stats();
}

void runtime::serve_commands() {
  command_msg msg;
  while (rte_ring_dequeue_elem(cmd_ring_, &msg, sizeof msg) == 0) {
    command_reply reply{msg.seq, 0, 0};
    switch (msg.type) {
      case command_type::clear_stats:
        if (msg.arg != all_ports && (msg.arg >= max_ports || state_->ports[msg.arg].name[0] == 0)) {
          reply.status = -ENODEV;
        } else {
          clear_stats(msg.arg);
          log_info("stats cleared ({})", msg.arg == all_ports ? std::string("all ports") : fmt::format("port {}", msg.arg));
        }
        break;
      case command_type::ping:
        reply.value = state_->stats_generation;
        break;
      case command_type::publish_services: {
        auto* c = reinterpret_cast<service_change_set*>(static_cast<uintptr_t>(msg.arg));
        directory_publisher& pub = services_.publisher();
        std::string why;
        if (!pub.directory() || !change_set_valid(c, *pub.directory(), why)) {
          log_warn("services: change set rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        if (!pub.apply(c, why)) {
          log_warn("services: change set not applied: {}", why);
          reply.status = -ENOMEM;
          break;
        }
        reply.value = pub.directory()->number;
        break;
      }
      case command_type::publish_ingress: {
        auto* ing = reinterpret_cast<ingress_publication*>(static_cast<uintptr_t>(msg.arg));
        std::string why;
        if (!services_.publisher().apply_ingress(ing, why)) {
          log_warn("ingress: publication rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        reply.value = services_.publisher().ingress_generation();
        break;
      }
      case command_type::publish_tls: {
        auto* p = reinterpret_cast<tls::tls_publication*>(static_cast<uintptr_t>(msg.arg));
        std::string why;
        if (!tls_.apply(p, why)) {
          log_warn("tls: publication rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        reply.value = tls_.generation();
        break;
      }
      case command_type::publish_dns: {
        auto* t = reinterpret_cast<dns::table*>(static_cast<uintptr_t>(msg.arg));
        std::string why;
        if (!services_.publisher().apply_dns(t, why)) {
          log_warn("dns: table rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        reply.value = services_.publisher().dns_generation();
        break;
      }
      case command_type::publish_pod_routes: {
        auto* l = reinterpret_cast<pod_route_list*>(static_cast<uintptr_t>(msg.arg));
        std::string why;
        if (!pod_routes_.apply(l, why)) {
          log_warn("pod routes: list rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        reply.value = pod_routes_.generation();
        break;
      }
      case command_type::publish_policy: {
        auto* l = reinterpret_cast<policy_rule_list*>(static_cast<uintptr_t>(msg.arg));
        std::string why;
        if (!policy_.apply(l, why)) {
          state_->policy_build_failures = policy_.build_failures();
          log_warn("policy: rule list rejected: {}", why);
          reply.status = -EINVAL;
          break;
        }
        reply.value = policy_.generation();
        break;
      }
      case command_type::clear_neighbors:
        reply.value = neighbors_.clear(now_ns());
        break;
      case command_type::set_log_level:
        if (msg.arg > static_cast<uint64_t>(log_level::debug)) {
          reply.status = -EINVAL;
          break;
        }
        set_log_level(static_cast<log_level>(msg.arg));
        state_->log_level = static_cast<uint32_t>(msg.arg);
        __atomic_fetch_add(&state_->log_level_seq, 1, __ATOMIC_RELEASE);
        log_info("log level set to {}", log_level_name(static_cast<log_level>(msg.arg)));
        break;
      default:
        reply.status = -EINVAL;
    }
    if (rte_ring_enqueue_elem(reply_ring_, &reply, sizeof reply) != 0)
      log_warn("command reply ring full; reply to seq {} lost", msg.seq);
    bell_ring(&state_->reply_bell);
  }
  services_.publisher().reclaim();
  pod_routes_.reclaim();
  policy_.reclaim();
  tls_.tick();
}

uint64_t runtime::now_ns() const {
  // Replay: the capture's time, as the worker last saw it.
  if (!workers_.empty() && workers_[0]->timestamp_offset >= 0) return workers_[0]->now_ns;
  return tick_clock::of_hz(rte_get_tsc_hz()).to_ns(rte_get_tsc_cycles());
}

void runtime::poll_neighbors() { neighbors_.poll(now_ns()); }

void runtime::poll_exception() {
  if (exception_.running()) exception_.poll(now_ns(), neighbors_);
}

void runtime::stop_ports() {
  if (!ports_started_) return;
  ports_started_ = false;
  for (uint16_t pid : port_ids_) {
    if (int rc = rte_eth_dev_stop(pid); rc != 0) log_warn("port {}: stop failed: {}", pid, rte_strerror(-rc));
  }
}

std::string final_stats(const shared_state& s) {
  std::string out = "\n=== kgw final statistics ===\n";
  for (unsigned p = 0; p < s.n_ports; ++p)
    if (s.ports[p].name[0]) out += format_port_stats(s, p, nullptr);
  out += "\n" + format_lcores(s) + "\n" + format_counters(s, false);
  return out;
}

}  // namespace kgw
