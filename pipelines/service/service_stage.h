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
#include "pipelines/service/affinity_table.h"
#include "pipelines/service/service_generation.h"
#include "pipelines/service/service_table.h"
#include "pipelines/service/steering.h"

struct rte_mbuf;

namespace kgw {

// Per lcore, per group and per endpoint; summed across lcores on read.
struct lb_counters {
  uint64_t packets;
  uint64_t bytes;
  uint64_t new_flows;
  int64_t active;  // new flows minus removed ones on this lcore
};

struct service_lcore {
  // Set per burst from the published generation (service_use_generation).
  const service_tables* tables = nullptr;  // nullptr: no Services
  lb_counters* group_counters = nullptr;   // this worker's, max_groups entries
  uint32_t max_groups = 0;
  lb_counters* backend_counters = nullptr;
  uint32_t max_backends = 0;
  uint8_t gen = 0;                         // low bits of the generation number, kept in each connection

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

// Points the stage at generation `g` (nullptr = no Services).
inline void service_use_generation(service_lcore& s, const service_generation* g) {
  if (!g) {
    s.tables = nullptr;
    s.max_groups = s.max_backends = 0;
    return;
  }
  s.tables = g->tables;
  s.group_counters = g->group_counters[s.worker];
  s.max_groups = s.group_counters ? g->max_groups : 0;
  s.backend_counters = g->backend_counters[s.worker];
  s.max_backends = s.backend_counters ? g->max_backends : 0;
  s.gen = static_cast<uint8_t>(g->number);
}

// Handles one parsed frame (see local_answer for len/cap).
void service_packet(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, service_lcore& s,
                    service_stage_counters& c);

void service_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, service_lcore& s, lcore_counters& c);

// Connection-table removal hook: keeps the per-endpoint active counts.
void service_on_conn_removed(void* ctx, const conn& c);

}  // namespace kgw
