// Stage: pod routing. A packet no other stage claimed (not a Service's, not
// the gateway's) whose destination lies in a Node's pod CIDR is forwarded,
// TTL or hop limit decremented: on the gateway's own segment (an on-link
// network of a port) straight to the pod's neighbour entry; elsewhere to the
// Node that owns the CIDR, either routed to its address (overlay none,
// host-gw style) or in VXLAN to its VTEP (overlay vxlan, Flannel's wire
// format: over IPv4, or over IPv6 for IPv6 pods when both ends have an IPv6
// VTEP). An encapsulation over the port's MTU becomes an ICMP
// fragmentation-needed / ICMPv6 packet-too-big back to the sender.
// Next hops without a MAC yet go to the resolver, as route_burst's do.
//
// vxlan_decap_burst runs right after parse: VXLAN to the gateway's VTEP
// (IPv4, or IPv6 with a right UDP checksum) is taken apart and its inner
// frame parsed again, so that it goes through every stage (Services, pod
// routing) as if it had arrived on the port.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/refusal.h"
#include "pipelines/neighbor/neighbor_lcore.h"
#include "pipelines/route/nexthop.h"
#include "pipelines/route/pod_route_table.h"

struct rte_mbuf;

namespace kgw {

enum class pod_overlay : uint8_t { none, vxlan };

// gateway.yaml's pod_network, as the workers use it; fixed from the start.
struct pod_network_conf {
  pod_overlay overlay = pod_overlay::none;
  uint32_t vni = 1;
  uint16_t vxlan_port = 8472;
  uint8_t vtep_mac[6] = {};    // the gateway's VTEP MAC
  uint8_t vtep_addr4[4] = {};  // the gateway's VTEP address: outer source, where VXLAN arrives
  // The IPv6 underlay (pod_network.vtep_address6): IPv6 pods of a Node that
  // has an IPv6 VTEP go over it, VXLAN to vtep_addr6 is taken apart.
  uint8_t has_vtep6 = 0;
  uint8_t vtep_mac6[6] = {};
  uint8_t vtep_addr6[16] = {};
  uint8_t has_addr4 = 0, has_addr6 = 0;
  uint8_t icmp_src4[4] = {};   // the gateway's addresses ICMP errors come from
  uint8_t icmp_src6[16] = {};
  uint16_t mtu[max_ports] = {};  // L3 MTU of each port
  uint8_t port_mac[max_ports][6] = {};
};

struct pod_forward_lcore {
  const pod_network_conf* conf = nullptr;
  const pod_route_table* routes = nullptr;  // this burst's; nullptr: none published
  refusal_limiter* refusals = nullptr;      // ICMP errors share the worker's budget
  uint64_t now_ns = 0;
};

void pod_forward_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, pod_forward_lcore& s, const nexthop_table* t,
                       neighbor_lcore& nb, lcore_counters& c);

// Packets the gateway itself sends (its TCP stack's segments) that
// route_originated_burst left pending: their destination has no route or
// neighbour but lies in a Node's pod CIDR. Delivered on L2, routed to the
// Node or encapsulated, as pod_forward_burst forwards, with the TTL the
// gateway set; a checksum left to the NIC is finished first (the NIC cannot
// finish it inside VXLAN).
void pod_forward_originated(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, pod_forward_lcore& s,
                            const nexthop_table* t, neighbor_lcore& nb, lcore_counters& c);

void vxlan_decap_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const pod_network_conf& conf,
                       lcore_counters& c);

}  // namespace kgw
