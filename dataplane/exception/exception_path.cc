#include "dataplane/exception/exception_path.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "dataplane/exception/exception_devices.h"
#include "dataplane/exception/kernel_interface.h"
#include "dataplane/log.h"
#include "dataplane/neighbor/neighbor_service.h"
#include "dataplane/worker.h"

namespace kgw {

namespace {

constexpr unsigned ring_size = 1024;  // per worker: a burst of the rate's worth between two main-lcore turns
constexpr uint16_t queue_desc = 512;

// One RX and one TX queue, no offloads: the main lcore alone uses it.
bool start_device(uint16_t pid, rte_mempool* pool, std::string& error) {
  rte_eth_conf conf{};
  int sock = rte_eth_dev_socket_id(pid);
  if (sock < 0) sock = SOCKET_ID_ANY;
  int rc = rte_eth_dev_configure(pid, 1, 1, &conf);
  if (rc == 0) rc = rte_eth_rx_queue_setup(pid, 0, queue_desc, sock, nullptr, pool);
  if (rc == 0) rc = rte_eth_tx_queue_setup(pid, 0, queue_desc, sock, nullptr);
  if (rc == 0) rc = rte_eth_dev_start(pid);
  if (rc != 0) error = rte_strerror(-rc);
  return rc == 0;
}

}  // namespace

bool exception_path::start(const gateway_config& cfg, const std::vector<uint16_t>& port_ids, shared_state& st,
                           rte_mempool* pool, unsigned n_workers, uint64_t now_ns, std::string& error) {
  std::fill(std::begin(by_port_), std::end(by_port_), -1);
  c_ = &st.main_counters;
  const exception_config& e = cfg.exception;
  std::string driver = exception_driver(e);
  log_info("exception: {} interfaces{} ({}), {} packets a second and bursts of {} to the kernel per port", driver,
           driver == "tap" && e.driver == "auto" ? " (no usable /dev/vhost-net)" : "", e.driver == "auto" ? "auto" : "configured",
           e.rate_pps, e.burst);
  for (size_t i = 0; i < port_ids.size(); ++i) {
    iface f;
    f.port = port_ids[i];
    f.name = exception_interface_name(e, i);
    f.worker = static_cast<uint16_t>(i % std::max(1u, n_workers));
    std::string dev = exception_device_name(driver, i);
    if (rte_eth_dev_get_port_by_name(dev.c_str(), &f.device) != 0) {
      error = fmt::format("exception: no ethdev {} for interface {} (the {} driver did not create it: does {} exist "
                          "already?)", dev, f.name, driver, f.name);
      return false;
    }
    std::string why;
    if (!start_device(f.device, pool, why)) {
      error = fmt::format("exception: cannot start {} ({}): {}", dev, f.name, why);
      return false;
    }
    ifaces_.push_back(f);  // stopped and closed by release() from here on
    mac_addr mac;
    std::copy(std::begin(st.ports[f.port].mac), std::end(st.ports[f.port].mac), mac.b.begin());
    unsigned mtu = st.ports[f.port].mtu ? st.ports[f.port].mtu : 1500;
    if (!configure_kernel_interface(f.name, mac, mtu, kernel_addresses(cfg, i), why)) {
      error = fmt::format("exception: interface {}: {}", f.name, why);
      return false;
    }
    ifaces_.back().bucket.start(e.rate_pps, e.burst, now_ns);
    by_port_[f.port] = static_cast<int>(ifaces_.size() - 1);
    shared_port_info& info = st.ports[f.port];
    std::snprintf(info.exception_iface, sizeof info.exception_iface, "%s", f.name.c_str());
    std::snprintf(info.exception_driver, sizeof info.exception_driver, "%s", driver.c_str());
    log_info("exception: port {} <-> kernel interface {} (ethdev {})", cfg.ports[i].name, f.name, f.device);
  }
  for (unsigned w = 0; w < n_workers; ++w) {
    auto name = fmt::format("kgw_exc_{}", w);
    rte_ring* r = rte_ring_create(name.c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) {
      error = fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno));
      return false;
    }
    rings_.push_back(r);
  }
  return true;
}

void exception_path::attach(worker_conf& w) const {
  w.exception = w.index < rings_.size() ? rings_[w.index] : nullptr;
}

void exception_path::drop(rte_mbuf* m, drop_reason why) {
  c_->drops[static_cast<unsigned>(why)]++;
  rte_pktmbuf_free(m);
}

void exception_path::to_kernel(rte_mbuf* m, uint64_t now_ns) {
  int at = m->port < max_ports ? by_port_[m->port] : -1;
  if (at < 0) {
    drop(m, drop_reason::not_for_gateway);
    return;
  }
  iface& f = ifaces_[at];
  if (!f.bucket.take(now_ns)) {
    drop(m, drop_reason::exception_rate_limited);
    return;
  }
  // RX offload flags (checksum status, timestamps) mean nothing to the interface's TX.
  m->ol_flags = 0;
  f.pkts[f.n++] = m;
  if (f.n == max_burst) flush(f);
}

void exception_path::flush(iface& f) {
  if (!f.n) return;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < f.n; ++i) bytes += rte_pktmbuf_pkt_len(f.pkts[i]);
  uint16_t sent = rte_eth_tx_burst(f.device, 0, f.pkts, f.n);
  for (uint16_t i = sent; i < f.n; ++i) {
    bytes -= rte_pktmbuf_pkt_len(f.pkts[i]);
    drop(f.pkts[i], drop_reason::exception_kernel_full);
  }
  c_->exception.to_kernel += sent;
  c_->exception.to_kernel_bytes += bytes;
  f.n = 0;
}

void exception_path::from_kernel(iface& f, neighbor_service& out) {
  rte_mbuf* pkts[max_burst];
  uint16_t n = rte_eth_rx_burst(f.device, 0, pkts, max_burst);
  for (uint16_t i = 0; i < n; ++i) {
    uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
    pkts[i]->ol_flags = 0;
    if (!out.inject(pkts[i], f.port, f.worker)) {
      drop(pkts[i], drop_reason::exception_inject_full);
      continue;
    }
    c_->exception.from_kernel++;
    c_->exception.from_kernel_bytes += len;
  }
}

void exception_path::poll(uint64_t now_ns, neighbor_service& out) {
  for (rte_ring* r : rings_) {
    rte_mbuf* pkts[max_burst];
    // Everything queued, not a burst: the bucket, not the ring, bounds what reaches the kernel.
    while (unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), max_burst, nullptr)) {
      for (unsigned i = 0; i < n; ++i) to_kernel(pkts[i], now_ns);
      if (n < max_burst) break;
    }
  }
  for (iface& f : ifaces_) {
    flush(f);
    from_kernel(f, out);
  }
}

void exception_path::release() {
  for (rte_ring* r : rings_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  rings_.clear();
  for (iface& f : ifaces_) {
    rte_pktmbuf_free_bulk(f.pkts, f.n);
    f.n = 0;
    if (int rc = rte_eth_dev_stop(f.device); rc != 0) log_warn("exception: {}: stop failed: {}", f.name, rte_strerror(-rc));
    rte_eth_dev_close(f.device);  // the kernel interface goes with it
  }
  ifaces_.clear();
}

}  // namespace kgw
