#include "dataplane/memory_plan.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/publish/counter_slots.h"
#include "dataplane/request_log_memory.h"
#include "pipelines/lb/service_directory.h"
#include "pipelines/contract/shared_state.h"
#include "dataplane/proxy_settings.h"
#include "dataplane/tcp_settings.h"
#include "pipelines/dns/dns_tcp.h"
#include "pipelines/route/pod_route_table.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tls/tls_stream.h"
#include "dataplane/worker.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/lb/affinity_table.h"

namespace kgw {

namespace {

constexpr uint64_t mib = 1 << 20;
// The per-lcore caches and the pool's own header, on top of its objects.
constexpr uint64_t mempool_overhead = 2 * mib;
// Rings, port descriptor rings, next hops, steering, command rings, telemetry:
// about 2 MiB measured with two ports and one worker; and what drivers take
// from the heap, e.g. net_pcap's infinite_rx ring (16 MiB for a capture of a
// million packets, as perf/run replays).
constexpr uint64_t fixed_room = 32 * mib;

uint64_t round_up_mb(uint64_t bytes) { return (bytes + mib - 1) / mib; }

}  // namespace

memory_plan plan_memory(const gateway_config& cfg) {
  memory_plan p;
  const auto& d = cfg.dataplane;
  // The object size the mempool will use: header, trailer and the padding
  // that spreads objects over memory channels (an estimate fell short by
  // tens of MiB for a million mbufs, leaving nothing for what comes after).
  uint64_t mbuf_bytes = rte_mempool_calc_obj_size(
      static_cast<uint32_t>(sizeof(rte_mbuf) + RTE_PKTMBUF_HEADROOM + d.mbuf_data_room), 0, nullptr);
  p.mbuf_pool_bytes = uint64_t(d.mbufs) * mbuf_bytes + mempool_overhead;
  p.per_worker_bytes = conn_table::memory_size(cfg.services.conntrack_entries) +
                       affinity_table::memory_size(cfg.services.affinity_entries) +
                       (cfg.services.fragment_entries ? frag_table::memory_size(cfg.services.fragment_entries) : 0) +
                       (cfg.services.fragment_entries && cfg.services.fragment_hold
                            ? sizeof(frag_hold) + frag_hold::memory_size(cfg.services.fragment_hold)
                            : 0) +
                       sizeof(conn_table) +
                       sizeof(affinity_table) + sizeof(worker_conf) + tcp::tcp_stack_memory_size(tcp_config_of(cfg));
  // The HTTP proxy, built whether or not an Ingress exists yet (one may be
  // published at run time), unless the configuration leaves it out.
  const bool proxy = !*proxy_off_reason(cfg);
  if (proxy)
    p.per_worker_bytes += sizeof(proxy::proxy_worker) + proxy::proxy_memory_size(cfg.tcp.max_connections, proxy_max_endpoints);
  // The TLS layer's per-connection state (OpenSSL's own is heap memory).
  if (cfg.ingress.tls_echo_port || (proxy && cfg.ingress.https_port))
    p.per_worker_bytes += sizeof(tls::tls_conn) * uint64_t{cfg.tcp.max_connections} + 16384;
  // DNS over TCP: its connection slots and the one message buffer.
  if (!cfg.dns.addresses.empty())
    p.per_worker_bytes += sizeof(dns::tcp_worker) + dns::tcp_worker_memory(cfg.dns.tcp_max_connections) + 1024;
  unsigned n_workers = cfg.workers ? cfg.workers : 1;
  p.fixed_bytes = fixed_room + sizeof(shared_state) + counter_area_bytes(cfg.services.counter_slots, n_workers, proxy) +
                  directory_bytes(cfg.services.max_services) +
                  request_log_memory::memory_size(n_workers, cfg.ingress.max_route_stats, !cfg.ingress.access_log.empty());
  p.table_bytes = uint64_t(d.table_memory_mb) * mib;
  // Pod routes (pipelines/route/pod_route_table.h): a 32 MiB first level per
  // family, twice while a new generation replaces the running one.
  if (cfg.pod_network.line) p.table_bytes += 2 * pod_route_table_mb * 2 * mib;
  if (d.memory_mb) {
    p.total_mb = *d.memory_mb;
    return p;
  }
  p.total_mb = round_up_mb(p.mbuf_pool_bytes + n_workers * p.per_worker_bytes + p.fixed_bytes + p.table_bytes);
  return p;
}

bool eal_args_size_memory(const std::vector<std::string>& extra) {
  for (const auto& a : extra)
    if (a == "-m" || a.starts_with("-m") || a.starts_with("--socket-mem") || a == "--no-huge" ||
        a.starts_with("--legacy-mem"))
      return true;
  return false;
}

}  // namespace kgw
