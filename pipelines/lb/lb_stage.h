// Stage: load balancing, and NetworkPolicy on the flows the gateway carries.
// A packet that missed the connection table and goes to a Service frontend
// opens a connection: unless another worker owns it (then it is handed off),
// it gets an endpoint (ClientIP affinity, then Maglev over the ready
// endpoints), a SNAT source port for full NAT, and an entry in the
// connection table for both directions, which nat and route then follow.
// With no ready endpoint the client gets ICMP port unreachable, as from
// kube-proxy.
//
// With NetworkPolicy published (docs/network-policy.md):
// - a new Service flow (the client's address as it arrived, to the chosen
//   endpoint on its port) is classified before it opens; denied, it opens
//   nothing and is dropped (policy_denied);
// - a new flow that pod routing will forward to a Pod (no Service) is
//   classified too; allowed, it gets a connection entry without NAT (replies:
//   the reversed key), which nat leaves alone and pod routing forwards;
// - a packet of a connection allowed under an earlier policy generation is
//   classified again: denied, the connection is removed and the packet
//   dropped (policy_revoked); allowed, it carries on.
// All the flows of a burst that need a verdict are classified in one
// classifier call (pipelines/policy/policy_batch.h).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/refusal.h"
#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/lb/affinity_table.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_directory.h"
#include "pipelines/lb/steering.h"
#include "pipelines/policy/policy_table.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/route/pod_route_table.h"

struct rte_mbuf;

namespace kgw {

struct lb_lcore {
  // Set per burst from the published directory (lb_use_directory).
  const service_directory* services = nullptr;  // nullptr: no Services
  const frontend_index* index = nullptr;        // the directory's, loaded once per burst
  lb_slots counters;                            // this worker's row of the lb_counter_area

  const nexthop_table* nexthops = nullptr;   // the endpoints' ports (for RSS) and the ports' MACs
  affinity_table* affinity = nullptr;
  const steering_table* steering = nullptr;  // nullptr or one worker: no steering
  unsigned worker = 0;
  bool from_handoff = false;  // packets another worker passed here are not passed on again
  snat_port_range snat_ports;
  refusal_limiter* refusals = nullptr;  // the worker's; nullptr: no limit
  // NetworkPolicy, loaded once per burst (lb_use_policy) and again before a
  // new flow is let through or classified (lb_reload_policy); nullptr: no
  // rule published, nothing classified.
  const policy_classifier* policy = nullptr;
  const policy_table* const* policy_slot = nullptr;  // where the main lcore publishes tables; nullptr: none
  const policy_table* policy_table_in_use = nullptr;
  uint32_t policy_gen = 0;  // the table's generation (low 32 bits): what connections are stamped with
  policy_hit_row policy_hits;  // this worker's per-policy counts of the table
  // The pod routes of this burst (nullptr: none): new flows to Pods they
  // route are classified when `policy` is set.
  const pod_route_table* pods = nullptr;
};

// Points the stage at the published NetworkPolicy table `t` (nullptr: none).
inline void lb_use_policy(lb_lcore& s, const policy_table* t) {
  s.policy_table_in_use = t;
  s.policy = t && t->enforcing() ? &t->classifier : nullptr;
  s.policy_hits = s.policy ? t->row(s.worker) : policy_hit_row{};
  s.policy_gen = s.policy ? static_cast<uint32_t>(t->list->generation) : 0;
}

// Takes the table published now, when it is not the one in use. Records are
// read from their slots during the burst, after the burst's first load of
// the table, and the rules of a change go live before its Services (control
// publishes them first): a record read before this load is never newer than
// the rules it finds, so a Service that appears with the policy isolating its
// Pods never opens a connection under the rules before.
inline void lb_reload_policy(lb_lcore& s) {
  if (!s.policy_slot) return;
  const policy_table* t = __atomic_load_n(s.policy_slot, __ATOMIC_ACQUIRE);
  if (t != s.policy_table_in_use) lb_use_policy(s, t);
}

// Points the stage at directory `d` (nullptr = no Services).
inline void lb_use_directory(lb_lcore& s, const service_directory* d) {
  s.index = d ? __atomic_load_n(&d->index, __ATOMIC_ACQUIRE) : nullptr;
  s.services = s.index ? d : nullptr;
  // The area outlives records: removed connections count down in it even
  // while no Service is published.
  // (The row only: the burst's TSC the worker set stays.)
  if (d && d->counters && s.worker < d->counters->n_workers) {
    s.counters.at = d->counters->counters[s.worker];
    s.counters.n = d->counters->n_slots;
  }
}

void lb_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, lb_lcore& s, conntrack_lcore& ct,
              lcore_counters& c);

// What the connection table is to tell of the connections it lets go: each
// gives back the active count it took in `slots` (its Service port's and
// endpoint's).
conn_removal lb_removal(lb_slots& slots);

// Whether `k`'s destination is a Service's own address (a cluster, external
// or load-balancer IP) in the directory of this burst.
bool lb_service_address(const lb_lcore& s, const flow_key& k);

// Whether a packet of `k` (in `frame`, received on `in_port`) is pod traffic
// that NetworkPolicy classifies: policy is enforced, and pod routing will
// forward it (sent to the gateway's port MAC, its destination in a Node's
// pod CIDR).
bool lb_policy_routed(const lb_lcore& s, const uint8_t* frame, uint16_t in_port, const flow_key& k);

}  // namespace kgw
