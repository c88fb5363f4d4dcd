// Active opens of a worker's TCP stack towards backends, from the SNAT
// addresses, with source ports of tcp.connect_port_lo/hi (disjoint from the
// L4 SNAT's ports; docs/tcp.md "Active opens").
//
// Each worker owns an equal slice of that range, so that a reply names its
// worker by its destination port alone; within the slice the port is chosen
// (tcp_connect_args::port_ok) so that the NIC's RSS hash of the reply lands on
// the worker's own RX queue, with the one mechanism the L4 SNAT uses
// (rss_queue, pipelines/lb/steering.h). When no such port is free, or the
// backend's port has no usable RSS, another port of the slice is taken and the
// replies that reach another worker are handed over by the local stage
// (connect_owner).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/net_types.h"
#include "pipelines/l7/connect/connect_ranges.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/lb/steering.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/route/pod_route_table.h"

namespace kgw {

// A worker's side: its slice, its queue, where its SNAT addresses are.
struct connect_lcore {
  connect_ranges ranges;
  unsigned worker = 0;    // its RX queue on every port
  ip_addr snat_v4, snat_v6;  // family 0: none of that family
  const nexthop_table* nexthops = nullptr;
  const steering_table* steering = nullptr;  // the ports' RSS; nullptr: not aimed
  // Where the pod routes are published (nullptr: no pod network): a backend
  // without a route of its own in a Node's pod CIDR is reached through pod
  // routing (pod_forward_originated).
  const pod_route_table* const* pod_routes_slot = nullptr;
};

enum class connect_error : uint8_t { ok, no_source, no_route, no_port };
const char* connect_error_name(connect_error e);

struct connect_result {
  tcp::tcp_conn_id conn;
  connect_error error = connect_error::ok;
  uint16_t port = 0;     // the source port taken (host order)
  bool steered = false;  // its reply hashes to this worker's queue (or there is only one queue)
};

// Opens a connection to remote:rport from the SNAT address of its family.
// Counts connect_started, connect_steered, connect_unsteered (a port of the
// slice whose reply RSS could not be aimed at this worker) and
// connect_no_port.
connect_result connect_from_snat(tcp::tcp_stack& s, const connect_lcore& w, const ip_addr& remote, uint16_t rport,
                                 tcp_lcore_counters& c);

// Whether the reply to local:port from remote:rport hashes to `queue` on
// `rss` (exposed for tests and the port predicate).
bool reply_hashes_to(const rss_port& rss, unsigned queue, const ip_addr& local, uint16_t port, const ip_addr& remote,
                     uint16_t rport);

}  // namespace kgw
