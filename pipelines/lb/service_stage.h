// Stage: connection tracking, load balancing and NAT. A packet of a tracked
// connection is translated by its entry; a first packet towards a Service
// frontend picks an endpoint (ClientIP affinity, then Maglev over the ready
// endpoints), gets an entry for both directions and is translated; with no
// ready endpoint the client gets ICMP port unreachable, as from kube-proxy.
// ICMP errors about a tracked connection are translated too. Then the packet
// leaves towards its next hop.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/lb/affinity_table.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_directory.h"
#include "pipelines/lb/steering.h"

struct rte_mbuf;

namespace kgw {

struct service_lcore {
  // Set per burst from the published directory (service_use_directory).
  const service_directory* services = nullptr;  // nullptr: no Services
  const frontend_index* index = nullptr;        // the directory's, loaded once per burst
  lb_counters* counters = nullptr;              // this worker's slots of the lb_counter_area
  uint32_t n_counters = 0;

  const nexthop_table* nexthops = nullptr;
  conn_table* conns = nullptr;
  affinity_table* affinity = nullptr;
  const steering_table* steering = nullptr;  // nullptr or one worker: no steering
  unsigned worker = 0;
  bool from_handoff = false;  // packets another worker passed here are not passed on again
  uint16_t port_lo = 1024, port_hi = 65535;  // this lcore's SNAT source ports
  uint16_t next_port = 0;
  uint16_t mss = 1460;  // clamp for SYNs; 0 = leave alone
  uint64_t now_ns = 0;
};

// Points the stage at directory `d` (nullptr = no Services).
inline void service_use_directory(service_lcore& s, const service_directory* d) {
  s.index = d ? __atomic_load_n(&d->index, __ATOMIC_ACQUIRE) : nullptr;
  s.services = s.index ? d : nullptr;
  // The area outlives records: connection-removal hooks count into it even
  // while no Service is published.
  if (d && d->counters && s.worker < d->counters->n_workers) {
    s.counters = d->counters->counters[s.worker];
    s.n_counters = d->counters->n_slots;
  }
}

// Handles one parsed frame (see local_answer for len/cap).
void service_packet(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, service_lcore& s,
                    service_stage_counters& c);

void service_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, service_lcore& s, lcore_counters& c);

// Connection-table removal hook: keeps the per-endpoint active counts.
void service_on_conn_removed(void* ctx, const conn& c);

}  // namespace kgw
