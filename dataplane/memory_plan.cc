#include "dataplane/memory_plan.h"

#include <rte_mbuf.h>

#include "dataplane/publish/counter_slots.h"
#include "pipelines/lb/service_directory.h"
#include "pipelines/contract/shared_state.h"
#include "dataplane/tcp_settings.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "dataplane/worker.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/lb/affinity_table.h"

namespace kgw {

namespace {

constexpr uint64_t mib = 1 << 20;
// Per-object header and alignment inside a mempool, and the per-lcore caches.
constexpr uint64_t mempool_object_overhead = 64;
// Rings, port descriptor rings, next hops, steering, command rings, telemetry:
// about 2 MiB measured with two ports and one worker.
constexpr uint64_t fixed_room = 16 * mib;

uint64_t round_up_mb(uint64_t bytes) { return (bytes + mib - 1) / mib; }

}  // namespace

memory_plan plan_memory(const gateway_config& cfg) {
  memory_plan p;
  const auto& d = cfg.dataplane;
  uint64_t mbuf_bytes = sizeof(rte_mbuf) + RTE_PKTMBUF_HEADROOM + d.mbuf_data_room + mempool_object_overhead;
  p.mbuf_pool_bytes = uint64_t(d.mbufs) * mbuf_bytes;
  p.per_worker_bytes = conn_table::memory_size(cfg.services.conntrack_entries) +
                       affinity_table::memory_size(cfg.services.affinity_entries) + sizeof(conn_table) +
                       sizeof(affinity_table) + sizeof(worker_conf) + tcp::tcp_stack_memory_size(tcp_config_of(cfg));
  unsigned n_workers = cfg.workers ? cfg.workers : 1;
  p.fixed_bytes = fixed_room + sizeof(shared_state) + counter_area_bytes(cfg.services.counter_slots, n_workers) +
                  directory_bytes(cfg.services.max_services);
  p.table_bytes = uint64_t(d.table_memory_mb) * mib;
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
