// The worker poll loop (one per lcore, l3fwd-style per-lcore config): burst RX
// from its queues, run the pipeline, buffered burst TX on its own TX queues.
#pragma once

#include <cstdint>

#include "dataplane/expiry_pace.h"
#include "dataplane/tx_drain.h"
#include "pipelines/contract/shared_state.h"
#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/tick_clock.h"
#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/conntrack/fragment_stage.h"
#include "pipelines/dns/dns_stage.h"
#include "pipelines/lb/lb_stage.h"
#include "pipelines/local/local.h"
#include "pipelines/nat/nat_stage.h"
#include "pipelines/neighbor/neighbor_lcore.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/route/pod_forward.h"

struct rte_mbuf;
struct rte_ring;
struct rte_rcu_qsbr;

namespace kgw {

struct tx_buffer {
  uint16_t n;
  rte_mbuf* pkts[max_burst];
};

struct worker_tcp;  // dataplane/worker_tcp.h

struct worker_conf {
  unsigned index = 0;            // worker number, 0..workers-1
  uint16_t n_rxq = 0;
  rx_queue_ref rxq[max_ports] = {};
  uint16_t txq = 0;
  uint16_t n_ports = 0;
  uint16_t burst = max_burst;
  tx_buffer tx[max_ports] = {};
  tx_drain drain;                // when the TX buffers are sent (dataplane.tx_drain_us)
  expiry_pace expiry;            // buckets per expiry step of worker_main (by TSC time)
  lcore_counters* counters = nullptr;  // this worker's slot in shared memory
  const local_table* local = nullptr;
  // The DNS responder: its addresses (nullptr: none) and the published names
  // (shared_state::dns), loaded once per burst.
  const dns_stage_table* dns = nullptr;
  const dns::table* const* dns_names = nullptr;
  local_lcore local_state;       // the local stage's refusal budget and clock
  refusal_limiter refusals;      // ICMP unreachables and RSTs this worker may send; lb and local share it
  rte_ring* punt = nullptr;      // to control; nullptr = punts are dropped
  rte_ring* exception = nullptr; // to the main lcore, for the node's kernel (dataplane/exception); nullptr: none
  volatile uint32_t* stop = nullptr;
  // Replay: "now" is the RX timestamp the pcap PMD put in the mbuf, so that
  // timeouts depend on the capture, not on the wall clock.
  int timestamp_offset = -1;     // mbuf dynfield offset; -1 = use the TSC
  tick_clock rx_clock[max_ports] = {};  // each port's RX timestamp units, by port id
  tick_clock tsc_clock = {};     // the TSC's
  uint64_t now_ns = 0;
  // The stages' state (kgw_pipeline_burst); no connection table: no Services.
  conntrack_lcore conntrack;
  fragment_hold_lcore frag_hold;  // later fragments held for their first (nullptr hold: none)
  lb_lcore lb;
  nat_lcore nat;
  const nexthop_table* nexthops = nullptr;       // this poll loop's, from *nexthops_slot
  const nexthop_table* const* nexthops_slot = nullptr;  // where the resolver publishes them; nullptr: fixed
  neighbor_lcore neighbor;       // misses and what is heard, to the resolver (dataplane/neighbor)
  // Pod routing: the pod network's settings (nullptr: off) and where the
  // main lcore publishes the pod routes, loaded once per burst.
  pod_forward_lcore pods;
  const pod_route_table* const* pod_routes_slot = nullptr;
  // NetworkPolicy: where the main lcore publishes the classifier, loaded once per burst.
  const policy_table* const* policy_slot = nullptr;
  rte_ring* inject = nullptr;    // from the resolver: frames to send, mbuf->port the port
  rte_ring* dns_reply = nullptr; // from control's DNS forwarder, the same; nullptr: no dns.upstreams
  service_directory* const* services = nullptr;  // the Service directory (shared memory)
  rte_rcu_qsbr* rcu = nullptr;   // reports quiescence once per loop
  conn_snapshot_request* snapshot = nullptr;  // `show conntrack` requests to this worker
  tcp_probe_request* tcp_probe = nullptr;     // `tcp connect` requests to this worker (needs `tcp`)
  l7_snapshot_request* l7_snapshot = nullptr;  // `show l7` requests to this worker
  rte_ring* handoff_in = nullptr;            // packets other workers pass to this one
  rte_ring* handoff_to[max_workers] = {};    // every worker's hand-off ring, by worker index
  // The worker's own TCP stack and its services, driven once per poll loop;
  // nullptr: none. Behind a pointer so that this header does not bring the
  // stack's namespace to every user of worker_conf.
  worker_tcp* tcp = nullptr;
  bool tx_linearize[max_ports] = {};  // the port takes no mbuf chains: the stack's are copied into one buffer
};

// One pass over the worker's RX queues, then the TCP stack's timers, events
// and output; returns the number of packets received.
unsigned worker_poll(worker_conf& w);
// Sends whatever is buffered.
void worker_flush(worker_conf& w);
// At the end of a poll loop that started at TSC loop_start and received
// `received` packets: sends what is buffered, or holds it for the next loop
// (tx_drain).
void worker_drain(worker_conf& w, unsigned received, uint64_t loop_start);
// Once per loop: the RCU quiescent point, a slice of any table copy asked for.
void worker_quiescent(worker_conf& w);
// A step of connection expiry over expiry_buckets buckets, counters published.
void worker_upkeep(worker_conf& w, unsigned expiry_buckets);
// Both, with 8 buckets: once per loop of a replay.
void worker_housekeeping(worker_conf& w);
// lcore entry point (rte_eal_remote_launch): polls until *stop.
int worker_main(void* conf);

// The pipeline over one received burst. Not inlined so that callgrind's
// --toggle-collect=kgw_pipeline_burst can isolate per-packet cost.
void kgw_pipeline_burst(worker_conf& w, rte_mbuf** pkts, uint16_t n);

}  // namespace kgw
